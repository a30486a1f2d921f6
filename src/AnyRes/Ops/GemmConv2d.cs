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
/// Stride 1 (every generator and most discriminator convolutions) needs no im2col copy at all: in the zero-padded input
/// flattened per channel, tap (i, j) of every output pixel is the same matrix shifted by i·W + j, so the convolution is
/// kh·kw accumulating GEMMs [O, C] × [C, L] on views of the input, computed on rows of the padded width and cropped
/// (kw − 1 wasted columns per row). Autograd sees only slices and addmm, so it keeps the input, not k² copies of it.
/// Strided convolutions (ResNet18, AlexNet, discriminator downsampling) gather their columns chunk by chunk (im2col).
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

    /// <param name="x">[N, C, H, W]</param>
    /// <param name="weight">[O, C, kh, kw]</param>
    /// <param name="bias">[O] or null</param>
    public static Tensor Apply(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padY = 0, int padX = 0)
    {
        Shapes.Assert(x, -1, weight.shape[1], -1, -1);
        long n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        long o = weight.shape[0], kh = weight.shape[2], kw = weight.shape[3];
        long oh = (h + 2 * padY - kh) / stride + 1, ow = (w + 2 * padX - kw) / stride + 1;
        if (oh < 1 || ow < 1) throw new ArgumentException($"conv2d: input {h}×{w} with padding ({padY}, {padX}) is smaller than the kernel {kh}×{kw}");
        if (x.device_type != DeviceType.CPU)
            return F.conv2d(x, weight, bias, strides: [stride, stride], padding: [padY, padX]);

        using var scope = NewDisposeScope();
        var y = stride == 1 && (kh > 1 || kw > 1) ? Shifted(x, weight, padY, padX, oh, ow) : Columns(x, weight, stride, padY, padX, oh, ow);
        if (bias is not null) y = y + bias.view(1, o, 1, 1);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Stride 1: Σ_ij W[:, :, i, j] · (padded input shifted by (i, j)), per sample.</summary>
    static Tensor Shifted(Tensor x, Tensor weight, int padY, int padX, long oh, long ow)
    {
        long n = x.shape[0], c = x.shape[1], o = weight.shape[0], kh = weight.shape[2], kw = weight.shape[3];
        // One extra zero row at the bottom keeps the last tap's shifted view inside the buffer.
        var xp = F.pad(x, [padX, padX, padY, padY + 1]).contiguous();
        long wp = xp.shape[3], plane = xp.shape[2] * wp, length = oh * wp;
        var taps = weight.permute(2, 3, 1, 0).contiguous();                           // [kh, kw, C, O]
        long block = Math.Max(wp, AccumulatorElements / o);
        return PerSample(n, s =>
        {
            var flat = xp[s].permute(1, 2, 0).reshape(plane, c);                      // pixels × channels
            var blocks = new List<Tensor>();
            for (long b0 = 0; b0 < length; b0 += block)
            {
                long bl = Math.Min(block, length - b0);
                Tensor? acc = null;
                for (long i = 0; i < kh; i++)
                    for (long j = 0; j < kw; j++)
                    {
                        var shifted = flat.narrow(0, i * wp + j + b0, bl);
                        if (acc is null) acc = shifted.mm(taps[i, j]);
                        else acc.addmm_(shifted, taps[i, j]);
                    }
                blocks.Add(acc!);
            }
            var rows = blocks.Count == 1 ? blocks[0] : cat(blocks, 0);
            return rows.view(oh, wp, o).narrow(1, 0, ow).permute(2, 0, 1);
        });
    }

    /// <summary>
    /// Stacks [O, oh, ow] results computed one sample at a time. Without autograd each goes straight into the output and
    /// its temporaries are freed before the next sample, so only one sample's intermediates ever exist.
    /// </summary>
    static Tensor PerSample(long n, Func<long, Tensor> sample)
    {
        if (is_grad_enabled()) return stack(Enumerable.Range(0, (int)n).Select(s => sample(s)).ToArray());
        Tensor? output = null;
        for (long s = 0; s < n; s++)
        {
            using var scope = NewDisposeScope();
            var y = sample(s);
            output ??= empty([n, .. y.shape], dtype: y.dtype, device: y.device).MoveToOuterDisposeScope();
            output[s].copy_(y);
        }
        return output!;
    }

    /// <summary>Any stride: gather [C·kh·kw, rows·ow] columns for a band of output rows at a time, one GEMM each.</summary>
    static Tensor Columns(Tensor x, Tensor weight, int stride, int padY, int padX, long oh, long ow)
    {
        long n = x.shape[0], c = x.shape[1], o = weight.shape[0], kh = weight.shape[2], kw = weight.shape[3], k = c * kh * kw;
        var w2 = weight.reshape(o, k);
        var xp = padY > 0 || padX > 0 ? F.pad(x, [padX, padX, padY, padY]) : x;
        long rowsPerChunk = Math.Clamp(ColumnElements / (k * ow), 1, oh);
        return PerSample(n, s =>
        {
            var rowParts = new List<Tensor>();
            for (long r0 = 0; r0 < oh; r0 += rowsPerChunk)
            {
                long rows = Math.Min(rowsPerChunk, oh - r0);
                var band = xp[s].narrow(1, r0 * stride, (rows - 1) * stride + kh);   // [C, rows_in, W]
                var cols = band.unfold(1, kh, stride).unfold(2, kw, stride)            // [C, rows, ow', kh, kw]
                    .narrow(2, 0, ow).permute(0, 3, 4, 1, 2).reshape(k, rows * ow);
                rowParts.Add(w2.mm(cols).view(o, rows, ow));
            }
            return rowParts.Count == 1 ? rowParts[0] : cat(rowParts, 1);
        });
    }
}
