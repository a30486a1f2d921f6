using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AnyRes.Ops;

/// <summary>
/// StyleGAN's upfirdn2d (spec 13.5): upsample by zero insertion, pad (negative = crop), convolve with a FIR filter,
/// keep every down-th sample. A 1-D filter runs as two separable passes, each a small banded matrix applied to
/// overlapping windows; a 2-D filter as a polyphase depthwise convolution. Padding lists are [x0, x1, y0, y1] as in
/// the reference.
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

        using var scope = NewDisposeScope();
        Tensor y;
        if (f is null)
            y = Pass(x, ones(1, 1, 1, 1, dtype: x.dtype, device: x.device) * gain, up, up, down, down, px0, px1, py0, py1, flipFilter);
        else if (f.dim() == 1)
        {
            // Convolution taps h (the reference correlates with the flipped filter unless flip_filter).
            var taps = f.detach().cpu().to(float64).data<double>().Select(v => v * Math.Sqrt(gain)).ToArray();
            if (flipFilter) Array.Reverse(taps);
            y = Axis(x, taps, 3, up, down, px0, px1);
            y = Axis(y, taps, 2, up, down, py0, py1);
        }
        else
            y = Pass(x, (f * gain).to(x.dtype).view(1, 1, fh, fw), up, up, down, down, px0, px1, py0, py1, flipFilter);
        return y.MoveToOuterDisposeScope();
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

    // Output samples per matrix tile: large enough for efficient GEMMs, small enough to waste few multiplications on
    // the band's zeros (a tile reads tile + taps/up − 1 inputs for up·tile outputs, or (tile − 1)·down + taps inputs).
    const int UpTile = 8, DownTile = 8;

    /// <summary>
    /// One separable pass along dim 3 (x) or 2 (y) with convolution taps h. The banded polyphase operator is periodic, so
    /// it runs as one small matrix applied to overlapping windows (unfold + matmul): GEMM speed, no inserted zeros
    /// filtered, no discarded sample computed. Upsampling computes the full convolution z[m] = Σ_i x[i]·h[m − i·up] and
    /// keeps y[n] = z[n + taps − 1 − pad0]; downsampling correlates the padded signal with the flipped taps at stride down.
    /// </summary>
    static Tensor Axis(Tensor x, double[] h, int dim, int up, int down, int p0, int p1)
    {
        int k = h.Length;
        long length = x.shape[dim];
        if (k == 1 && up == 1 && down == 1) return PadAxis(x, dim, p0, p1) * h[0];
        if (up > 1)
        {
            int j = (k + up - 1) / up, window = UpTile + j - 1, outputs = up * UpTile;
            long full = (length - 1) * up + k, tiles = (full + outputs - 1) / outputs;
            var m = new double[window * outputs];
            for (int a = 0; a < window; a++)
                for (int b = 0; b < outputs; b++)
                {
                    int idx = b - a * up + (j - 1) * up;
                    if (idx >= 0 && idx < k) m[a * outputs + b] = h[idx];
                }
            var padded = PadAxis(x, dim, j - 1, (int)((tiles - 1) * UpTile + window - (j - 1) - length));
            var z = Tile(padded, m, window, outputs, UpTile, dim);
            long outLength = length * up + p0 + p1 - k + 1;
            int left = p0 - k + 1;
            z = PadAxis(z, dim, left, (int)(outLength - z.shape[dim] - left));
            return down > 1 ? z.slice(dim, 0, z.shape[dim], down) : z;
        }
        var xp = PadAxis(x, dim, p0, p1);
        long lp = xp.shape[dim], count = (lp - k) / down + 1;
        int win = (DownTile - 1) * down + k, step = DownTile * down;
        long ntiles = (count + DownTile - 1) / DownTile;
        var md = new double[win * DownTile];
        for (int a = 0; a < win; a++)
            for (int b = 0; b < DownTile; b++)
            {
                int idx = a - b * down;
                if (idx >= 0 && idx < k) md[a * DownTile + b] = h[k - 1 - idx];
            }
        long need = (ntiles - 1) * step + win;
        if (need > lp) xp = PadAxis(xp, dim, 0, (int)(need - lp));
        var y = Tile(xp, md, win, DownTile, step, dim);
        return y.narrow(dim, 0, count);
    }

    /// <summary>Applies the [window, outputs] matrix to windows taken every step samples along dim; concatenates the tiles.</summary>
    static Tensor Tile(Tensor x, double[] matrix, int window, int outputs, int step, int dim)
    {
        var m = tensor(matrix, new long[] { window, outputs }, dtype: float64).to(x.dtype, x.device);
        if (dim == 2) return Tile(x.transpose(2, 3), matrix, window, outputs, step, 3).transpose(2, 3);
        var windows = x.unfold(3, window, step);                                   // [N, C, H, tiles, window]
        long n = windows.shape[0], c = windows.shape[1], h = windows.shape[2], tiles = windows.shape[3];
        // One tall GEMM over all windows (libtorch's broadcast matmul on the 5-D view was orders of magnitude slower).
        return windows.reshape(-1, window).mm(m).view(n, c, h, tiles * outputs);
    }

    static Tensor PadAxis(Tensor x, int dim, int lo, int hi) => dim == 3 ? PadOrCrop(x, lo, hi, 0, 0) : PadOrCrop(x, 0, 0, lo, hi);

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
