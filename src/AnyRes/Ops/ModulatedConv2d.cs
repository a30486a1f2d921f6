using static TorchSharp.torch;

namespace AnyRes.Ops;

/// <summary>
/// StyleGAN3's modulated_conv2d (spec 13.4). The reference scales a per-sample copy of the weight and runs a grouped
/// convolution; here the same linear map is input-channel scaling, a convolution with the shared weight and output-channel
/// scaling by the demodulation coefficients, which GemmConv2d.Modulated folds into each sample's GEMM weights where it can:
/// equal up to float rounding.
/// </summary>
public static class ModulatedConv2d
{
    /// <summary>The shared weight and the per-sample input and output channel factors of one modulated convolution.</summary>
    public sealed record Coefficients(Tensor Weight, Tensor InScale, Tensor? OutScale)
    {
        /// <summary>The convolution of x (samples <paramref name="first"/>… of the batch the coefficients were made for).</summary>
        public Tensor Apply(Tensor x, int padding, long first = 0)
        {
            long n = x.shape[0];
            return GemmConv2d.Modulated(x, Weight.to(x.dtype), InScale.narrow(0, first, n).to(x.dtype),
                OutScale?.narrow(0, first, n).to(x.dtype), padding, padding);
        }
    }

    /// <param name="w">[O, I, k, k]</param>
    /// <param name="s">styles [B, I]</param>
    /// <param name="inputGain">scalar, [I] or [B, I] factors on the input channels (after demodulation), or null</param>
    public static Coefficients Coefficient(Tensor w, Tensor s, bool demodulate = true, Tensor? inputGain = null)
    {
        long batch = s.shape[0], inChannels = w.shape[1];
        if (s.dim() != 2 || s.shape[1] != inChannels) throw new ArgumentException($"styles [{string.Join(",", s.shape)}] do not match [B, I={inChannels}]");
        Tensor? dcoefs = null;
        if (demodulate)
        {
            // Pre-normalisation over the whole batch, as the reference (it cancels in the demodulation up to rounding).
            w = w * w.square().mean(new long[] { 1, 2, 3 }, keepdim: true).rsqrt();
            s = s * s.square().mean().rsqrt();
            // Σ_{i,k,k} (w_oikk s_bi)² = Σ_i s_bi² Σ_kk w_oikk²
            dcoefs = (s.square().matmul(w.square().sum(new long[] { 2, 3 }).t()) + 1e-8).rsqrt(); // [B, O]
        }
        var scale = inputGain is null ? s : s * inputGain.expand(batch, inChannels);
        return new Coefficients(w, scale, dcoefs);
    }

    /// <param name="x">[B, I, H, W]</param>
    /// <param name="w">[O, I, k, k]</param>
    /// <param name="s">styles [B, I]</param>
    /// <param name="inputGain">scalar, [I] or [B, I] factors on the input channels (after demodulation), or null</param>
    public static Tensor Apply(Tensor x, Tensor w, Tensor s, bool demodulate = true, int padding = 0, Tensor? inputGain = null)
    {
        if (x.dim() != 4 || x.shape[1] != w.shape[1]) throw new ArgumentException($"x [{string.Join(",", x.shape)}] does not match weight [{string.Join(",", w.shape)}]");
        if (s.shape[0] != x.shape[0]) throw new ArgumentException($"styles [{string.Join(",", s.shape)}] do not match the batch of x ({x.shape[0]})");
        return Coefficient(w, s, demodulate, inputGain).Apply(x, padding);
    }
}
