using AnyRes.Core;
using AnyRes.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AnyRes.Networks;

/// <summary>
/// SG3 Fourier-feature input (spec 5.1) with a per-sample user transform: the patch's transform maps the layer's own grid
/// into the canonical full image, so every patch samples the same continuous field.
/// </summary>
public sealed class SynthesisInput : nn.Module
{
    public readonly int WDim, Channels, Size;
    public readonly double SamplingRate, Bandwidth;

    public readonly Parameter weight;
    readonly FullyConnectedLayer affine;
    public readonly Tensor transform, freqs, phases;

    public SynthesisInput(int wDim, int channels, int size, double samplingRate, double bandwidth) : base(nameof(SynthesisInput))
    {
        (WDim, Channels, Size, SamplingRate, Bandwidth) = (wDim, channels, size, samplingRate, bandwidth);
        // Frequencies drawn inside a disc of radius bandwidth (radius bw·exp(−r²/4) for a Gaussian draw), random phases.
        var f = randn(channels, 2);
        var radii = f.square().sum(new long[] { 1 }, keepdim: true).sqrt();
        f = f / (radii * radii.square().exp().pow(0.25)) * bandwidth;
        freqs = f;
        phases = rand(channels) - 0.5;
        weight = new Parameter(randn(channels, channels));
        affine = new FullyConnectedLayer(wDim, 4, weightInit: 0, biasInit: new double[] { 1, 0, 0, 0 });
        register_parameter("weight", weight);
        register_module("affine", affine);
        transform = eye(3);
        register_buffer("transform", transform);
        register_buffer("freqs", freqs);
        register_buffer("phases", phases);
    }

    /// <summary>w [B, w_dim], transform [B, 3, 3] or null (the identity buffer) → [B, C, S, S].</summary>
    public Tensor forward(Tensor w, Tensor? userTransform = null)
    {
        long b = w.shape[0];
        var device = w.device;
        var user = userTransform ?? transform.unsqueeze(0).expand(b, 3, 3);
        Shapes.Assert(user, b, 3, 3);

        // Learned rotation (r_c, r_s) and translation (t_x, t_y), applied after the user transform in the canonical frame.
        var t = affine.forward(w);
        t = t / t.narrow(1, 0, 2).norm(1, keepdim: true);
        var (rc, rs, tx, ty) = (t[.., 0], t[.., 1], t[.., 2], t[.., 3]);
        var zero = zeros_like(rc);
        var one = ones_like(rc);
        var mR = stack(new[] { rc, -rs, zero, rs, rc, zero, zero, zero, one }, 1).view(b, 3, 3);
        var mT = stack(new[] { one, zero, -tx, zero, one, -ty, zero, zero, one }, 1).view(b, 3, 3);
        var m = mR.matmul(mT).matmul(user.to(w.dtype));

        var f0 = freqs.unsqueeze(0);                                                        // [1, C, 2]
        var ph = phases.unsqueeze(0) + f0.matmul(m.narrow(1, 0, 2).narrow(2, 2, 1)).squeeze(2); // [B, C]
        var f = f0.matmul(m.narrow(1, 0, 2).narrow(2, 0, 2));                                 // [B, C, 2]
        // Dampen frequencies pushed out of band by the user transform.
        var amplitudes = (1 - (f.norm(2) - Bandwidth) / (SamplingRate / 2 - Bandwidth)).clamp(0, 1);

        // Pixel centres of the S×S grid in image units (affine_grid with half-size S/(2·sr), align_corners=False).
        var g = (arange(Size, dtype: w.dtype, device: device) + (0.5 - Size / 2.0)) / SamplingRate;
        var gx = g.view(1, 1, Size, 1);
        var gy = g.view(1, Size, 1, 1);
        var x = gx * f[.., .., 0].view(b, 1, 1, Channels) + gy * f[.., .., 1].view(b, 1, 1, Channels) + ph.view(b, 1, 1, Channels);
        x = (x * (2 * Math.PI)).sin() * amplitudes.view(b, 1, 1, Channels);
        x = x.matmul((weight / Math.Sqrt(Channels)).t());
        return x.permute(0, 3, 1, 2).contiguous();   // channels-last tensors hit libtorch CPU conv bugs downstream
    }
}
