using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AnyRes.Ops;

/// <summary>
/// StyleGAN's upfirdn2d (spec 13.5): upsample by zero insertion, pad (negative = crop), convolve with a FIR filter,
/// keep every down-th sample. Computed polyphase (one convolution per phase for up, a strided convolution for down)
/// as depthwise convolutions, so no inserted zero is filtered and no discarded sample is computed; a 1-D filter runs
/// as two separable passes. Padding lists are [x0, x1, y0, y1] as in the reference.
/// </summary>
public static class Upfirdn2d
{
    /// <summary>One number, [x, y] or [x0, x1, y0, y1] → (x0, x1, y0, y1).</summary>
    public static (int X0, int X1, int Y0, int Y1) ParsePadding(IReadOnlyList<int>? padding) => padding switch
    {
        null or { Count: 0 } => (0, 0, 0, 0),
        { Count: 1 } => (padding[0], padding[0], padding[0], padding[0]),
        { Count: 2 } => (padding[0], padding[0], padding[1], padding[1]),
        { Count: 4 } => (padding[0], padding[1], padding[2], padding[3]),
        _ => throw new ArgumentException($"padding needs 1, 2 or 4 values, got {padding.Count}"),
    };

    /// <summary>
    /// setup_filter: float32, normalised to unit sum, a 1-D filter of fewer than 8 taps made non-separable (outer product),
    /// optionally flipped, times gain^(ndim/2).
    /// </summary>
    public static Tensor SetupFilter(float[] taps, bool normalize = true, bool flipFilter = false, double gain = 1, bool? separable = null, Device? device = null)
    {
        var f = tensor(taps, dtype: float32);
        if (!(separable ?? taps.Length >= 8)) f = outer(f, f);
        if (normalize) f = f / f.sum();
        if (flipFilter) f = f.flip(Enumerable.Range(0, (int)f.dim()).Select(i => (long)i).ToArray());
        f = f * Math.Pow(gain, f.dim() / 2.0);
        return device is null ? f : f.to(device);
    }

    /// <summary>upfirdn2d(x, f, up, down, padding, flip_filter, gain) on x [N, C, H, W]; f = [taps] (separable), [h, w], or null (identity).</summary>
    public static Tensor Apply(Tensor x, Tensor? f, int up = 1, int down = 1, IReadOnlyList<int>? padding = null, bool flipFilter = false, double gain = 1)
    {
        if (x.dim() != 4) throw new ArgumentException($"upfirdn2d expects [N, C, H, W], got {x.dim()} dims");
        if (up < 1 || down < 1) throw new ArgumentException("up and down must be >= 1");
        var (px0, px1, py0, py1) = ParsePadding(padding);
        long h = x.shape[2], w = x.shape[3];
        long fw = f is null ? 1 : f.shape[^1], fh = f is null ? 1 : f.shape[0];
        if (w * up + px0 + px1 < fw || h * up + py0 + py1 < fh) throw new ArgumentException("upsampled and padded image is smaller than the filter");

        Tensor y;
        if (f is null)
            y = Pass(x, ones(1, 1, 1, 1, dtype: x.dtype, device: x.device) * gain, up, up, down, down, px0, px1, py0, py1, flipFilter);
        else if (f.dim() == 1)
        {
            var k = (f * Math.Sqrt(gain)).to(x.dtype);
            y = Pass(x, k.view(1, 1, 1, -1), 1, up, 1, down, px0, px1, 0, 0, flipFilter);
            y = Pass(y, k.view(1, 1, -1, 1), up, 1, down, 1, 0, 0, py0, py1, flipFilter);
        }
        else
            y = Pass(x, (f * gain).to(x.dtype).view(1, 1, fh, fw), up, up, down, down, px0, px1, py0, py1, flipFilter);
        return y;
    }

    /// <summary>
    /// One depthwise FIR pass on [N, C, H, W] with kernel [1, 1, kh, kw]. The reference correlates with the flipped filter
    /// (a true convolution h). Upsampling: z[m] = Σ_i x[i]·h[m − i·up] is computed per phase r = m mod up as an ordinary
    /// convolution with the taps h[j·up + r] (the phases are extra output channels of one depthwise conv, then
    /// interleaved), and the reference's output is y[n] = z[n + taps − 1 − pad0]. Downsampling: a strided correlation.
    /// Depthwise on purpose: with libtorch 2.10 CPU, float32 conv2d input gradients are wrong for single-channel inputs
    /// with batch > 1, and conv_transpose2d returned NaNs. Inputs are made contiguous: a channels-last input gave wrong
    /// depthwise results with a channel multiplier.
    /// </summary>
    static Tensor Pass(Tensor y, Tensor kernel, int upy, int upx, int downy, int downx, int px0, int px1, int py0, int py1, bool flip)
    {
        long n = y.shape[0], c = y.shape[1], h = y.shape[2], w = y.shape[3], kh = kernel.shape[2], kw = kernel.shape[3];
        if (upx > 1 || upy > 1)
        {
            long jy = (kh + upy - 1) / upy, jx = (kw + upx - 1) / upx, phases = upy * upx;
            var conv = flip ? kernel.flip(2, 3) : kernel;
            conv = F.pad(conv, new long[] { 0, jx * upx - kw, 0, jy * upy - kh });
            var weight = conv.view(jy, upy, jx, upx).permute(1, 3, 0, 2).flip(2, 3).reshape(1, phases, jy, jx).expand(c, phases, jy, jx).reshape(c * phases, 1, jy, jx);
            var z = F.conv2d(y.contiguous(), weight, padding: new long[] { jy - 1, jx - 1 }, groups: c);
            long hq = z.shape[2], wq = z.shape[3];
            z = z.view(n, c, upy, upx, hq, wq).permute(0, 1, 4, 2, 5, 3).reshape(n, c, hq * upy, wq * upx);
            long outH = h * upy + py0 + py1 - kh + 1, outW = w * upx + px0 + px1 - kw + 1;
            int ax = px0 - (int)kw + 1, ay = py0 - (int)kh + 1;
            z = PadOrCrop(z, ax, (int)(outW - z.shape[3] - ax), ay, (int)(outH - z.shape[2] - ay));
            if (downy > 1) z = z.slice(2, 0, z.shape[2], downy);
            if (downx > 1) z = z.slice(3, 0, z.shape[3], downx);
            return z;
        }
        y = PadOrCrop(y, px0, px1, py0, py1);
        if (kh == 1 && kw == 1 && downx == 1 && downy == 1) return y * kernel.view(1);
        var k = (flip ? kernel : kernel.flip(2, 3)).expand(c, 1, kh, kw).contiguous();
        return F.conv2d(y.contiguous(), k, strides: new long[] { downy, downx }, groups: c);
    }

    static Tensor PadOrCrop(Tensor y, int x0, int x1, int y0, int y1)
    {
        if (x0 == 0 && x1 == 0 && y0 == 0 && y1 == 0) return y;
        if (x0 <= 0 && x1 <= 0 && y0 <= 0 && y1 <= 0)
            return y.slice(2, -y0, y.shape[2] + y1, 1).slice(3, -x0, y.shape[3] + x1, 1);
        return F.pad(y, new long[] { x0, x1, y0, y1 });
    }

    /// <summary>filter2d: filter keeping the size (pads [fw/2, (fw−1)/2, fh/2, (fh−1)/2]) plus extra padding.</summary>
    public static Tensor Filter2d(Tensor x, Tensor f, IReadOnlyList<int>? padding = null, bool flipFilter = false, double gain = 1)
    {
        var (px0, px1, py0, py1) = ParsePadding(padding);
        var (fw, fh) = FilterSize(f);
        return Apply(x, f, padding: new[] { px0 + fw / 2, px1 + (fw - 1) / 2, py0 + fh / 2, py1 + (fh - 1) / 2 }, flipFilter: flipFilter, gain: gain);
    }

    /// <summary>upsample2d: output size a multiple of the input, gain × up².</summary>
    public static Tensor Upsample2d(Tensor x, Tensor f, int up = 2, IReadOnlyList<int>? padding = null, bool flipFilter = false, double gain = 1)
    {
        var (px0, px1, py0, py1) = ParsePadding(padding);
        var (fw, fh) = FilterSize(f);
        var p = new[] { px0 + (fw + up - 1) / 2, px1 + (fw - up) / 2, py0 + (fh + up - 1) / 2, py1 + (fh - up) / 2 };
        return Apply(x, f, up: up, padding: p, flipFilter: flipFilter, gain: gain * up * up);
    }

    /// <summary>downsample2d: output size a fraction of the input (padding is with respect to the input).</summary>
    public static Tensor Downsample2d(Tensor x, Tensor f, int down = 2, IReadOnlyList<int>? padding = null, bool flipFilter = false, double gain = 1)
    {
        var (px0, px1, py0, py1) = ParsePadding(padding);
        var (fw, fh) = FilterSize(f);
        var p = new[] { px0 + (fw - down + 1) / 2, px1 + (fw - down) / 2, py0 + (fh - down + 1) / 2, py1 + (fh - down) / 2 };
        return Apply(x, f, down: down, padding: p, flipFilter: flipFilter, gain: gain);
    }

    static (int W, int H) FilterSize(Tensor? f) =>
        f is null ? (1, 1) : f.dim() == 1 ? ((int)f.shape[0], (int)f.shape[0]) : ((int)f.shape[1], (int)f.shape[0]);
}
