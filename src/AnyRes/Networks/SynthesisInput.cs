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
public class SynthesisInput : nn.Module
{
    public readonly int WDim, Channels, Size;
    public readonly double SamplingRate, Bandwidth;

    public readonly Parameter weight;
    readonly FullyConnectedLayer affine;
    public readonly Tensor transform, freqs, phases;

    public SynthesisInput(int wDim, int channels, int size, double samplingRate, double bandwidth)
        : this(nameof(SynthesisInput), wDim, channels, size, samplingRate, bandwidth) { }

    protected SynthesisInput(string name, int wDim, int channels, int size, double samplingRate, double bandwidth) : base(name)
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
    public virtual Tensor forward(Tensor w, Tensor? userTransform = null)
    {
        long b = w.shape[0];
        var device = w.device;
        var user = UserTransform(b, userTransform);

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
        var amplitudes = Amplitudes(f);   // dampens frequencies pushed out of band by the user transform

        var g = Grid(w.dtype, device);
        var gx = g.view(1, 1, Size, 1);
        var gy = g.view(1, Size, 1, 1);
        var x = gx * f[.., .., 0].view(b, 1, 1, Channels) + gy * f[.., .., 1].view(b, 1, 1, Channels) + ph.view(b, 1, 1, Channels);
        return Features(x, amplitudes.view(b, 1, 1, Channels));
    }

    protected Tensor UserTransform(long batch, Tensor? userTransform)
    {
        var user = userTransform ?? transform.unsqueeze(0).expand(batch, 3, 3);
        Shapes.Assert(user, batch, 3, 3);
        return user;
    }

    /// <summary>1 inside the band, falling linearly to 0 at half the sampling rate, per frequency [.., C, 2] → [.., C].</summary>
    protected Tensor Amplitudes(Tensor f) => (1 - (f.norm(-1) - Bandwidth) / (SamplingRate / 2 - Bandwidth)).clamp(0, 1);

    /// <summary>Pixel centres of the S×S grid in image units (affine_grid with half-size S/(2·sr), align_corners=False).</summary>
    protected Tensor Grid(ScalarType dtype, Device device) => (arange(Size, dtype: dtype, device: device) + (0.5 - Size / 2.0)) / SamplingRate;

    /// <summary>Phases x [B, S, S, C] (in cycles) → sin(2πx)·amplitudes through the trainable channel mix → [B, C, S, S].</summary>
    protected Tensor Features(Tensor x, Tensor amplitudes)
    {
        x = (x * (2 * Math.PI)).sin() * amplitudes;
        x = x.matmul((weight / Math.Sqrt(Channels)).t());
        return x.permute(0, 3, 1, 2).contiguous();   // channels-last tensors hit libtorch CPU conv bugs downstream
    }
}

/// <summary>
/// The panorama input (spec 12, <c>SynthesisInput360</c>): the Fourier features live on a cylinder. A grid column's angle is
/// θ = π(2n/W₃₆₀ − 1) with n its column in the turn of W₃₆₀ = F·360/fov columns (F = S − 2·margin, the frame width); the first
/// half of the channels sees (sin θ, y), the second half (cos θ, y), so the features wrap around after one turn. The user
/// transform moves the grid in image units before the angle is taken (the reference rescales x to the square frame, applies
/// the transform and scales back, which is this): translating by one unit moves one frame, fov degrees. The reference's
/// crop start column c is a translation by c/sr. Amplitudes come from the untransformed frequencies and w adds no learned
/// rotation or translation (the affine layer exists, unused, for the checkpoint keys).
/// </summary>
public sealed class SynthesisInput360 : SynthesisInput
{
    public readonly int Fov, MarginSize;

    /// <summary>Grid columns of one frame, F = S − 2·margin.</summary>
    public int FrameColumns => Size - 2 * MarginSize;

    /// <summary>Columns per turn, W₃₆₀ = F·360 // fov (the reference's integer division).</summary>
    public int TurnColumns => FrameColumns * 360 / Fov;

    /// <summary>Frames per turn in image units: the period of the features along x.</summary>
    public double Period => TurnColumns / SamplingRate;

    public SynthesisInput360(int wDim, int channels, int size, double samplingRate, double bandwidth, int marginSize, int fov)
        : base(nameof(SynthesisInput360), wDim, channels, size, samplingRate, bandwidth)
    {
        (MarginSize, Fov) = (marginSize, fov);
        if (channels % 2 != 0) throw new ArgumentException($"the panorama input splits its channels into sin and cos halves: {channels} is odd");
    }

    public override Tensor forward(Tensor w, Tensor? userTransform = null)
    {
        long b = w.shape[0];
        var m = UserTransform(b, userTransform).to(w.dtype);
        var g = Grid(w.dtype, w.device);
        var gx = g.view(1, 1, Size, 1);
        var gy = g.view(1, Size, 1, 1);
        Tensor Row(int r, int c) => m[.., r, c].view(b, 1, 1, 1);
        var qx = Row(0, 0) * gx + Row(0, 1) * gy + Row(0, 2);   // [B, S, S, 1]
        var qy = Row(1, 0) * gx + Row(1, 1) * gy + Row(1, 2);
        var column = qx * SamplingRate + ((Size - 1) / 2.0 - MarginSize);
        var theta = (column * (2.0 / TurnColumns) - 1) * Math.PI;

        int half = Channels / 2;
        var amplitudes = Amplitudes(freqs).view(1, 1, 1, Channels);   // of the untransformed frequencies, as the reference
        Tensor Half(Tensor around, int start) =>
            around * freqs[start..(start + half), 0].view(1, 1, 1, half) + qy * freqs[start..(start + half), 1].view(1, 1, 1, half) + phases[start..(start + half)].view(1, 1, 1, half);
        var x = cat(new[] { Half(theta.sin(), 0), Half(theta.cos(), half) }, 3);
        return Features(x, amplitudes);
    }
}
