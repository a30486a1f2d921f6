using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AnyRes.Ops;

/// <summary>
/// SG3's band-limited affine warp (<c>metrics/equivariance.py::apply_affine_transformation</c>, spec §7), batched over samples:
/// z(q) ≈ x(mat⁻¹·q) for every sample at once, output the size of the input, zeros outside, plus the validity mask.
/// <para>
/// The reference upsamples 4× with a 127×127 windowed-sinc filter designed from <c>mat</c>, then bilinearly resamples on an
/// affine grid, one sample at a time. For an axis-aligned <c>mat</c> (every patch transform and its inverse) the filter, the
/// upsampling and the bilinear grid are all separable, so the whole warp is one linear map per axis:
/// z = A_y · x · A_xᵀ with A = (bilinear sampling on the grid) · (4× upsampling matrix), each H×H or W×W. That is the same
/// operator, evaluated by two batched matmuls instead of a 127×127 convolution over a 4× image.
/// </para>
/// </summary>
public static class AffineWarp
{
    /// <summary>Filter design arguments of <c>construct_affine_bandlimit_filter</c> (reference defaults).</summary>
    public sealed record Design(
        int A = 3,              // Lanczos window half-width, in source pixels
        int Amax = 16,          // half-size of the final filter, in source pixels (→ 2·Amax·Up − 1 = 127 taps)
        int Aflt = 64,          // half-size of the design grid, in source pixels
        int Up = 4,             // upsampling factor before the bilinear resampling
        double CutoffIn = 1,    // sinc cutoff in input space
        double CutoffOut = 1);  // sinc cutoff in output space

    static readonly Design Defaults = new();

    /// <summary>
    /// <c>training/loss.py::apply_affine_batch</c>: sample i is warped by <c>transforms[i]⁻¹</c>. Teacher loss, inverse mode:
    /// <c>ApplyBatch(studentPatch, T⁻¹)</c> places the patch into the teacher's frame; forward mode: <c>ApplyBatch(teacherImage, T)</c>.
    /// </summary>
    public static (Tensor Image, Tensor Mask) ApplyBatch(Tensor x, Tensor transforms, Design? design = null) =>
        Apply(x, torch.linalg.inv(transforms.to(float32)), design);

    /// <summary>
    /// <c>apply_affine_transformation(x[i], mat[i])</c> for every i. <paramref name="x"/> is [B, C, H, W]; <paramref name="mat"/> is
    /// [B, 3, 3] in SG3 units (the image spans [−0.5, 0.5]) with an axis-aligned linear part. Returns the warped image
    /// [B, C, H, W] (differentiable in <paramref name="x"/>) and the mask [B, 1, H, W] (the reference repeats it over channels).
    /// </summary>
    public static (Tensor Image, Tensor Mask) Apply(Tensor x, Tensor mat, Design? design = null)
    {
        design ??= Defaults;
        Core.Shapes.Assert(x, -1, -1, -1, -1);
        Core.Shapes.Assert(mat, x.shape[0], 3, 3);
        using var scope = torch.NewDisposeScope();
        mat = AxisAligned(mat.to(float32, x.device));
        long B = x.shape[0], H = x.shape[2], W = x.shape[3];
        int up = design.Up, taps = 2 * design.Amax * up - 1, pad = taps / 2;

        // Sampling grid exactly as the reference builds it (float32 throughout).
        var theta = torch.linalg.inv(mat).clone();
        theta[.., ..2, 2] *= 2;
        theta[.., 0, 2] += 1.0 / up / W;
        theta[.., 1, 2] += 1.0 / up / H;
        theta[.., 0, ..] *= W / (W + pad / (double)up * 2);
        theta[.., 1, ..] *= H / (H + pad / (double)up * 2);
        var grid = F.affine_grid(theta[.., ..2, ..], new long[] { B, 1, H, W }, align_corners: false);
        var gx = grid[.., 0, .., 0];   // [B, W]: the grid of an axis-aligned θ is separable
        var gy = grid[.., .., 0, 1];   // [B, H]

        var hx = Filter1d(mat[.., 0, 0], design).to(float32);
        var hy = Filter1d(mat[.., 1, 1], design).to(float32);
        var ax = AxisOperator(hx, gx, W, up, pad);   // [B, W_in, W_out] = A_xᵀ
        var ay = AxisOperator(hy, gy, H, up, pad);   // [B, H_in, H_out] = A_yᵀ
        var z = torch.matmul(ay.transpose(1, 2).unsqueeze(1), torch.matmul(x, ax.unsqueeze(1)));

        var mx = AxisMask(gx, W * up + 2 * pad, 2 * pad + 1);
        var my = AxisMask(gy, H * up + 2 * pad, 2 * pad + 1);
        var m = (my.unsqueeze(2) * mx.unsqueeze(1)).unsqueeze(1);
        return (z.MoveToOuterDisposeScope(), m.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The matrices with the rounding noise of inverting them (off-diagonal terms below 1e-6 of the diagonal) set to zero;
    /// throws for a real rotation or shear, which would need the reference's non-separable filter.
    /// </summary>
    static Tensor AxisAligned(Tensor mat)
    {
        var off = torch.zeros(3, 3, dtype: ScalarType.Bool, device: mat.device);
        off[0, 1] = true;
        off[1, 0] = true;
        var scale = mat[.., 0, 0].abs().minimum(mat[.., 1, 1].abs()).reshape(-1, 1, 1);
        var noise = off & (mat.abs() <= scale * 1e-6);
        if ((off & ~noise & (mat != 0)).any().item<bool>())
            throw new ArgumentException("the band-limited warp supports axis-aligned transforms only (no rotation or shear)");
        return torch.where(noise, torch.zeros_like(mat), mat);
    }

    /// <summary>
    /// One axis of <c>construct_affine_bandlimit_filter</c> for a linear part scaled by <paramref name="scale"/> ([B]): the 2-D
    /// filter is the outer product of the rows' and columns' 1-D filters divided by up². Returned per sample as [B, taps] in
    /// float64, each polyphase component summing to 1 (the up² gain of <c>upsample2d</c> included).
    /// </summary>
    public static Tensor Filter1d(Tensor scale, Design? design = null)
    {
        design ??= Defaults;
        using var scope = torch.NewDisposeScope();
        var device = scale.device;
        int up = design.Up, n = design.Aflt * up * 2 - 1;
        var t = ((torch.arange(n, float64, device) + 1) / up - design.Aflt).roll(1 - design.Aflt * up);
        var s = scale.to(float64).reshape(-1, 1);
        var fi = Sinc(t * design.CutoffIn).unsqueeze(0);
        var fo = Sinc(s * t * design.CutoffOut);
        var wi = Lanczos(t, design.A).unsqueeze(0);
        var wo = Lanczos(s * t, design.A);
        var f = CircularConvolve(fi, fo) * CircularConvolve(wi, wo);   // [B, n]

        int c = (design.Aflt - design.Amax) * up;
        f = f.roll(design.Aflt * up - 1, 1)[.., c..(n - c)];
        f = F.pad(f, new long[] { 0, 1 }).reshape(-1, design.Amax * 2, up);
        f = (f / f.sum(1, keepdim: true)).reshape(-1, design.Amax * 2 * up)[.., ..^1];
        return f.contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>The reference's non-separable 127×127 filter for an axis-aligned <paramref name="mat"/> [3, 3] (for checks).</summary>
    public static Tensor Filter2d(Tensor mat, Design? design = null)
    {
        design ??= Defaults;
        using var scope = torch.NewDisposeScope();
        var m = mat.reshape(1, 3, 3);
        var hx = Filter1d(m[.., 0, 0], design)[0];
        var hy = Filter1d(m[.., 1, 1], design)[0];
        return (torch.outer(hy, hx) / (design.Up * design.Up)).to(float32).MoveToOuterDisposeScope();
    }

    static Tensor Sinc(Tensor x)
    {
        var y = (x * Math.PI).abs();
        return torch.where(y < 1e-30, torch.ones_like(x), torch.sin(y) / y.clamp_min(1e-30));
    }

    static Tensor Lanczos(Tensor x, double a)
    {
        var r = x.abs() / a;
        return torch.where(r < 1, Sinc(r), torch.zeros_like(x));
    }

    static Tensor CircularConvolve(Tensor a, Tensor b) => torch.fft.ifft(torch.fft.fft_(a) * torch.fft.fft_(b)).real;

    /// <summary>
    /// Aᵀ for one axis, [B, size_in, size_out]: the upsampling matrix U (y = U·x, upfirdn2d with up, the filter and padding
    /// <paramref name="pad"/> on each side) followed by bilinear sampling at <paramref name="g"/> (normalised coordinates, zeros
    /// outside). The sampling runs through grid_sample itself so its coordinate arithmetic is the reference's.
    /// </summary>
    static Tensor AxisOperator(Tensor h, Tensor g, long size, int up, int pad)
    {
        long taps = h.shape[1], sizeUp = size * up + 2 * pad;
        // upsample2d pads (taps + up − 1)/2 + pad before the zero-inserted signal and flips the filter: y[n] = Σ_i x[i]·h[n − off − up·i].
        long off = (taps + up - 1) / 2 + pad - (taps - 1);
        var n = torch.arange(sizeUp, int64, h.device).unsqueeze(1);
        var i = torch.arange(size, int64, h.device).unsqueeze(0);
        var k = n - off - up * i;                                              // [sizeUp, size]
        var valid = (k >= 0) & (k < taps);
        var u = h.index_select(1, k.clamp(0, taps - 1).flatten()).reshape(-1, sizeUp, size) * valid;   // [B, sizeUp, size]
        var rows = u.transpose(1, 2).unsqueeze(2);                             // [B, size_in, 1, sizeUp]
        var grid = torch.stack(new[] { g, torch.zeros_like(g) }, -1).unsqueeze(1);   // [B, 1, size_out, 2]
        var sampled = F.grid_sample(rows, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Zeros, align_corners: false);
        return sampled.squeeze(2);                                             // [B, size_in, size_out]
    }

    /// <summary>The validity mask along one axis: ones except <paramref name="border"/> upsampled pixels at each end, nearest-sampled at <paramref name="g"/>.</summary>
    static Tensor AxisMask(Tensor g, long sizeUp, long border)
    {
        var ones = torch.zeros(sizeUp, float32, g.device);
        ones[(int)border..(int)(sizeUp - border)] = 1;
        var input = ones.reshape(1, 1, 1, -1).expand(g.shape[0], 1, 1, sizeUp);
        var grid = torch.stack(new[] { g, torch.zeros_like(g) }, -1).unsqueeze(1);
        return F.grid_sample(input, grid, GridSampleMode.Nearest, GridSamplePaddingMode.Zeros, align_corners: false).reshape(g.shape[0], -1);
    }
}
