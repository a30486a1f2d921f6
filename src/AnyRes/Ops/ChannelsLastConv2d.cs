using AnyRes.Core;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AnyRes.Ops;

/// <summary>
/// Inference convolution on channels-last activations [N, H, W, C], for frozen CNNs run without autograd on the CPU (the
/// metric pass of ResNet18). Channels last makes every band of output rows one contiguous [pixels, O] matrix, so a chunk's
/// columns are gathered with one copy per kernel row (each output pixel reads kw·C contiguous inputs), multiplied in one
/// GEMM straight into the output, and the bias, the residual and the ReLU are applied to that chunk while it is still in
/// cache. Planar (NCHW) im2col instead gathers single elements and needs a layout change after every convolution.
/// (Shifted GEMMs without gathering, as <see cref="GemmConv2d"/> does for SG3, measured no faster here: ResNet18's
/// padded rows and k² passes over the sums cost what the gathering saves.)
/// </summary>
public static class ChannelsLastConv2d
{
    /// <summary>Column elements gathered per GEMM (float32: 4 MiB), so a chunk's columns are still cached when read.</summary>
    const long ColumnElements = 1L << 20;

    /// <summary>[O, C, kh, kw] weights → [kh·kw·C, O], rows in the order the columns are gathered.</summary>
    public static Tensor TapMatrix(Tensor weight) => weight.permute(2, 3, 1, 0).reshape(-1, weight.shape[0]).contiguous();

    /// <summary>
    /// The output size of an inference convolution on channels-last x, after the checks the channels-last ops share: no
    /// autograd, an output of at least one pixel, a residual [N, OH, OW, O] if given.
    /// </summary>
    internal static (long oh, long ow) OutputSize(string op, Tensor x, Tensor weights, long kh, long kw, long stride, long padBegin, long padEnd, Tensor? residual, long outChannels)
    {
        if (is_grad_enabled() && (x.requires_grad || weights.requires_grad)) throw new InvalidOperationException($"{op} is inference-only");
        long h = x.shape[1], w = x.shape[2];
        long oh = (h + padBegin + padEnd - kh) / stride + 1, ow = (w + padBegin + padEnd - kw) / stride + 1;
        if (oh < 1 || ow < 1) throw new ArgumentException($"conv2d: input {h}×{w} with padding ({padBegin}, {padEnd}) is smaller than the kernel {kh}×{kw}");
        if (residual is not null) Shapes.Assert(residual, x.shape[0], oh, ow, outChannels);
        return (oh, ow);
    }

    /// <param name="x">[N, H, W, C]</param>
    /// <param name="taps">[kh·kw·C, O] from <see cref="TapMatrix"/></param>
    /// <param name="bias">[O] or null</param>
    /// <param name="padBegin">zero rows/columns before the image (top, left)</param>
    /// <param name="padEnd">zero rows/columns after the image (bottom, right)</param>
    /// <param name="residual">[N, OH, OW, O] added after the bias, or null</param>
    /// <returns>[N, OH, OW, O]</returns>
    public static Tensor Apply(Tensor x, Tensor taps, long kh, long kw, Tensor? bias, long stride, long padBegin, long padEnd, Tensor? residual = null, bool relu = false)
    {
        long n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3], o = taps.shape[1];
        Shapes.Assert(taps, kh * kw * c, -1);
        var (oh, ow) = OutputSize(nameof(ChannelsLastConv2d), x, taps, kh, kw, stride, padBegin, padEnd, residual, o);

        using var scope = NewDisposeScope();
        var y = empty(n, oh, ow, o, dtype: x.dtype, device: x.device);
        var res = residual?.contiguous();
        var xp = padBegin > 0 || padEnd > 0 ? F.pad(x, [0, 0, padBegin, padEnd, padBegin, padEnd]) : x.contiguous();
        long k = kh * kw * c, hp = xp.shape[1], wp = xp.shape[2], sampleStride = hp * wp * c, baseOffset = xp.storage_offset();
        bool pointwise = kh == 1 && kw == 1 && stride == 1;
        // Groups of whole samples, or bands of one sample's output rows, whose columns fit the budget.
        long samples = Math.Clamp(ColumnElements / (oh * ow * k), 1, n);
        long rows = samples > 1 ? oh : Math.Clamp(ColumnElements / (ow * k), 1, oh);
        var columns = pointwise ? null : empty(samples * rows * ow * k, dtype: x.dtype, device: x.device);
        for (long s0 = 0; s0 < n; s0 += samples)
        {
            long ns = Math.Min(samples, n - s0);
            for (long r0 = 0; r0 < oh; r0 += rows)
            {
                using var chunkScope = NewDisposeScope();
                long nr = Math.Min(rows, oh - r0), m = ns * nr * ow;
                Tensor a;
                if (columns is null) a = xp.narrow(0, s0, ns).narrow(1, r0, nr).reshape(m, c);
                else
                {
                    var cols = columns.narrow(0, 0, m * k).view(ns, nr, ow, kh, kw * c);
                    for (long i = 0; i < kh; i++)
                        cols.select(3, i).copy_(xp.as_strided([ns, nr, ow, kw * c], [sampleStride, stride * wp * c, stride * c, 1],
                            baseOffset + s0 * sampleStride + (r0 * stride + i) * wp * c));
                    a = cols.view(m, k);
                }
                var block = y.narrow(0, s0, ns).narrow(1, r0, nr).view(m, o);
                block.addmm_(a, taps, beta: 0);
                if (bias is not null) block.add_(bias);
                if (res is not null) block.add_(res.narrow(0, s0, ns).narrow(1, r0, nr).view(m, o));
                if (relu) block.relu_();
            }
        }
        return y.MoveToOuterDisposeScope();
    }
}
