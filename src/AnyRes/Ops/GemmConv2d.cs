using AnyRes.Core;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AnyRes.Ops;

/// <summary>
/// 2-D convolution on the CPU as GEMMs in MKL's sgemm, at full vector width. libtorch's own CPU convolution goes through
/// oneDNN, which this project must cap at SSE4.1 to get correct results (see NativeSettings); SG3-T 256's synthesis
/// convolutions run several times faster this way. Other devices use libtorch's conv2d (cuDNN is right and fast).
/// <para>
/// Stride-1 convolutions with many input channels (SG3's synthesis layers) need no im2col copy at all: in the zero-padded
/// batch flattened to pixels × channels, tap (i, j) of every output pixel is the same matrix shifted by i·W + j rows, so
/// the convolution is kh·kw accumulating GEMMs [L, C] × [C, O] on views of the input, computed on rows of the padded width
/// and cropped. Autograd sees only slices and addmm, so it keeps the input, not k² copies of it. The rest (few channels,
/// strides: ResNet18, AlexNet, the tiny preset, discriminator downsampling) gather columns for groups of samples (im2col)
/// and run one GEMM per group; with autograd those columns are what backward keeps.
/// </para>
/// </summary>
public static class GemmConv2d
{
    /// <summary>Column elements gathered per GEMM for strided convolutions (float32: 64 MiB).</summary>
    const long ColumnElements = 16L << 20;

    /// <summary>
    /// Output elements accumulated per block of the stride-1 path (float32: 4 MiB), so that the k² accumulating GEMMs
    /// read and write their sum in cache (SG3-T 256's layer 11: 3.0 s unblocked).
    /// </summary>
    const long AccumulatorElements = 1L << 20;

    /// <summary>Elements of one group's flattened input or output in the stride-1 path (float32: 64 MiB).</summary>
    const long GroupElements = 16L << 20;

    /// <summary>Largest column matrix kept for backward (float32: 256 MiB); beyond it stride 1 shifts, strided uses libtorch.</summary>
    const long RecordedColumnElements = 64L << 20;

    /// <summary>Input channels from which stride-1 convolutions use the shifted GEMMs rather than gathered columns.</summary>
    const long ShiftedMinChannels = 256;

    /// <param name="x">[N, C, H, W]</param>
    /// <param name="weight">[O, C, kh, kw]</param>
    /// <param name="bias">[O] or null</param>
    public static Tensor Apply(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padY = 0, int padX = 0) =>
        Apply(x, weight, bias, stride, padY, padX, null, null);

    /// <summary>
    /// Σ_c W[o, c] ⋆ (inScale[n, c] · x[n, c]) · outScale[n, o]: a convolution with per-sample weights (SG3's modulated
    /// convolution). The shifted GEMMs scale the weights of each sample instead of the activations, so neither the scaled
    /// input nor an unscaled output is ever materialised; the other paths scale the activations.
    /// </summary>
    /// <param name="inScale">[N, C] or null</param>
    /// <param name="outScale">[N, O] or null</param>
    public static Tensor Modulated(Tensor x, Tensor weight, Tensor? inScale, Tensor? outScale, int padY = 0, int padX = 0) =>
        Apply(x, weight, null, 1, padY, padX, inScale, outScale);

    static Tensor Apply(Tensor x, Tensor weight, Tensor? bias, int stride, int padY, int padX, Tensor? inScale, Tensor? outScale)
    {
        Shapes.Assert(x, -1, weight.shape[1], -1, -1);
        long n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        long o = weight.shape[0], kh = weight.shape[2], kw = weight.shape[3];
        long oh = (h + 2 * padY - kh) / stride + 1, ow = (w + 2 * padX - kw) / stride + 1;
        if (oh < 1 || ow < 1) throw new ArgumentException($"conv2d: input {h}×{w} with padding ({padY}, {padX}) is smaller than the kernel {kh}×{kw}");
        if (inScale is not null) Shapes.Assert(inScale, n, c);
        if (outScale is not null) Shapes.Assert(outScale, n, o);
        Tensor ScaledInput() => inScale is null ? x : x * inScale.view(n, c, 1, 1);
        Tensor ScaledOutput(Tensor y) => outScale is null ? y : y * outScale.view(n, o, 1, 1);
        if (x.device_type != DeviceType.CPU)
            return ScaledOutput(F.conv2d(ScaledInput(), weight, bias, strides: [stride, stride], padding: [padY, padX]));

        // Few channels make the shifted GEMMs too thin (K = C) to run at speed, so they gather columns, unless autograd
        // would have to keep columns beyond the budget.
        bool recording = is_grad_enabled() && new[] { x, weight, inScale, outScale }.Any(t => t?.requires_grad ?? false);
        bool bigColumns = recording && n * c * kh * kw * oh * ow > RecordedColumnElements;
        if (bigColumns && stride > 1)
            return ScaledOutput(F.conv2d(ScaledInput(), weight, bias, strides: [stride, stride], padding: [padY, padX]));
        using var scope = NewDisposeScope();
        var y = stride == 1 && (kh > 1 || kw > 1) && (c >= ShiftedMinChannels || bigColumns)
            ? Shifted(x, weight, padY, padX, oh, ow, recording, inScale, outScale)
            : Columns(x, weight, stride, padY, padX, oh, ow, recording, inScale, outScale);
        if (bias is not null) y = y + bias.view(1, o, 1, 1);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Stride 1: Σ_ij (padded input shifted by (i, j)) · W[:, :, i, j]ᵀ, on groups of samples flattened to pixels ×
    /// channels (one sample per group with per-sample scales, which go into that sample's copy of the taps). Rows whose
    /// taps reach past their sample's padded image are computed and dropped. Without autograd the accumulators are rows
    /// of one buffer per group, copied once into the output, so only one group's intermediates exist at a time.
    /// </summary>
    static Tensor Shifted(Tensor x, Tensor weight, int padY, int padX, long oh, long ow, bool recording, Tensor? inScale, Tensor? outScale)
    {
        long n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3], o = weight.shape[0], kh = weight.shape[2], kw = weight.shape[3];
        long hp = h + 2 * padY, wp = w + 2 * padX, plane = hp * wp, reach = (kh - 1) * wp + kw - 1;
        bool perSample = inScale is not null || outScale is not null;
        long group = perSample ? 1 : Math.Clamp(GroupElements / (plane * Math.Max(c, o)), 1, n);
        long block = Math.Max(wp, AccumulatorElements / o);
        var taps = weight.permute(2, 3, 1, 0);                                       // [kh, kw, C, O]
        if (!perSample) taps = taps.contiguous();
        var output = recording ? null : empty(n, o, oh, ow, dtype: x.dtype, device: x.device);
        var groups = new List<Tensor>();
        for (long s0 = 0; s0 < n; s0 += group)
        {
            using var scope = NewDisposeScope();
            long ns = Math.Min(group, n - s0), rows = ns * plane;
            var sampleTaps = taps;
            if (inScale is not null) sampleTaps = sampleTaps * inScale.select(0, s0).view(1, 1, c, 1);
            if (outScale is not null) sampleTaps = sampleTaps * outScale.select(0, s0).view(1, 1, 1, o);
            if (perSample) sampleTaps = sampleTaps.contiguous();
            // Pixels × channels of the zero-padded samples, with a zero tail for the taps of the last rows.
            var flat = zeros(rows + reach, c, dtype: x.dtype, device: x.device);
            flat.narrow(0, 0, rows).view(ns, hp, wp, c).narrow(1, padY, h).narrow(2, padX, w)
                .copy_(x.narrow(0, s0, ns).permute(0, 2, 3, 1));
            var sums = recording ? null : empty(rows, o, dtype: x.dtype, device: x.device);
            var blocks = new List<Tensor>();
            for (long b0 = 0; b0 < rows; b0 += block)
            {
                long bl = Math.Min(block, rows - b0);
                var acc = sums?.narrow(0, b0, bl);
                for (long i = 0; i < kh; i++)
                    for (long j = 0; j < kw; j++)
                    {
                        var shifted = flat.narrow(0, i * wp + j + b0, bl);
                        if (acc is null) acc = shifted.mm(sampleTaps[i, j]);
                        else acc.addmm_(shifted, sampleTaps[i, j], beta: i == 0 && j == 0 && sums is not null ? 0 : 1);
                    }
                blocks.Add(acc!);
            }
            var all = sums ?? (blocks.Count == 1 ? blocks[0] : cat(blocks, 0));
            var y = all.view(ns, hp, wp, o).narrow(1, 0, oh).narrow(2, 0, ow).permute(0, 3, 1, 2);
            if (output is null) groups.Add(y.contiguous().MoveToOuterDisposeScope());
            else output.narrow(0, s0, ns).copy_(y);
        }
        return output ?? (groups.Count == 1 ? groups[0] : cat(groups, 0));
    }

    /// <summary>
    /// Any stride: gather [C·kh·kw, samples·rows·ow] columns for a group of whole samples (or a band of one sample's output
    /// rows when a sample alone exceeds the budget), one GEMM each. Per-sample scales make groups of one sample and go
    /// into that sample's weights. Without autograd the GEMMs write into the output (a band of one sample's rows is a
    /// strided matrix BLAS writes directly).
    /// </summary>
    static Tensor Columns(Tensor x, Tensor weight, int stride, int padY, int padX, long oh, long ow, bool recording, Tensor? inScale, Tensor? outScale)
    {
        long n = x.shape[0], c = x.shape[1], o = weight.shape[0], kh = weight.shape[2], kw = weight.shape[3], k = c * kh * kw;
        bool perSample = inScale is not null || outScale is not null;
        var xp = padY > 0 || padX > 0 ? F.pad(x, [padX, padX, padY, padY]) : x;
        long samplesPerChunk = perSample ? 1 : Math.Clamp(ColumnElements / (k * oh * ow), 1, n);
        long rowsPerChunk = Math.Clamp(ColumnElements / (k * ow), 1, oh);
        var output = recording ? null : empty(n, o, oh, ow, dtype: x.dtype, device: x.device);
        var parts = new List<Tensor>();
        for (long s0 = 0; s0 < n; s0 += samplesPerChunk)
        {
            long ns = Math.Min(samplesPerChunk, n - s0);
            var w2 = weight;
            if (inScale is not null) w2 = w2 * inScale.select(0, s0).view(1, c, 1, 1);
            if (outScale is not null) w2 = w2 * outScale.select(0, s0).view(o, 1, 1, 1);
            w2 = w2.reshape(o, k);
            var rowParts = new List<Tensor>();
            for (long r0 = 0; r0 < oh; r0 += ns > 1 ? oh : rowsPerChunk)
            {
                long rows = ns > 1 ? oh : Math.Min(rowsPerChunk, oh - r0);
                var band = xp.narrow(0, s0, ns).narrow(2, r0 * stride, (rows - 1) * stride + kh);   // [ns, C, rows_in, W]
                var cols = kh == 1 && kw == 1 && stride == 1
                    ? band.permute(1, 0, 2, 3).reshape(k, ns * rows * ow)
                    : band.unfold(2, kh, stride).unfold(3, kw, stride)                   // [ns, C, rows, ow', kh, kw]
                        .narrow(3, 0, ow).permute(1, 4, 5, 0, 2, 3).reshape(k, ns * rows * ow);
                if (output is not null && ns == 1) output.select(0, s0).view(o, oh * ow).narrow(1, r0 * ow, rows * ow).addmm_(w2, cols, beta: 0);
                else rowParts.Add(w2.mm(cols).view(o, ns, rows, ow));
            }
            if (output is not null)
            {
                if (ns > 1) output.narrow(0, s0, ns).copy_(rowParts[0].permute(1, 0, 2, 3));
            }
            else parts.Add(rowParts.Count == 1 ? rowParts[0] : cat(rowParts, 2));
        }
        return output ?? (parts.Count == 1 ? parts[0] : cat(parts, 1)).permute(1, 0, 2, 3).contiguous();
    }
}
