using AnyRes.Core;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AnyRes.Ops;

/// <summary>
/// Inference 3×3 stride-1 convolution on channels-last activations [N, H, W, C] by Winograd's minimal filtering F(4×4, 3×3)
/// (Lavin &amp; Gray 2016): each 4×4 output tile is Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A of its 6×6 input tile d, so 36 products per
/// tile and channel pair replace 144 and the GEMMs shrink 4× (ResNet18 spends four fifths of its time in such layers).
/// The transforms are GEMMs with the Kronecker products of the small matrices: one [36, 36] × [36, tiles·C] on the gathered
/// tiles, 36 products [tiles, C] × [C, O] in one batched GEMM, one [16, 36] × [36, tiles·O] back. With the interpolation
/// points 0, ±1, ±2 the float32 result stays within ~1e-5 of the direct convolution (relative to its largest value).
/// </summary>
public static class WinogradConv2d
{
    /// <summary>Gathered tile elements per chunk (float32: 16 MiB), large enough for efficient GEMMs, small enough to stay cached.</summary>
    const long TileElements = 4L << 20;

    /// <summary>Input channels from which the transforms (memory-bound, ∝ channels) cost less than the multiplies they save.</summary>
    const long MinChannels = 128;

    /// <summary>Output tile size m; input tiles are α × α.</summary>
    const long M = 4, Alpha = M + 2;

    /// <summary>Whether a convolution is one this op computes faster than <see cref="ChannelsLastConv2d"/>.</summary>
    public static bool Suits(long inChannels, long kh, long kw, long stride) => kh == 3 && kw == 3 && stride == 1 && inChannels >= MinChannels;

    static readonly double[,] InputT =
    {
        { 4, 0, -5, 0, 1, 0 }, { 0, -4, -4, 1, 1, 0 }, { 0, 4, -4, -1, 1, 0 },
        { 0, -2, -1, 2, 1, 0 }, { 0, 2, -1, -2, 1, 0 }, { 0, 4, 0, -5, 0, 1 },
    };
    static readonly double[,] FilterT =
    {
        { 1 / 4.0, 0, 0 }, { -1 / 6.0, -1 / 6.0, -1 / 6.0 }, { -1 / 6.0, 1 / 6.0, -1 / 6.0 },
        { 1 / 24.0, 1 / 12.0, 1 / 6.0 }, { 1 / 24.0, -1 / 12.0, 1 / 6.0 }, { 0, 0, 1 },
    };
    static readonly double[,] OutputT = { { 1, 1, 1, 1, 1, 0 }, { 0, 1, -1, 2, -2, 0 }, { 0, 1, 1, 4, 4, 0 }, { 0, 1, -1, 8, -8, 1 } };

    /// <summary>A ⊗ A for a matrix A given as rows.</summary>
    static Tensor Kron(double[,] a, ScalarType dtype, Device device)
    {
        using var t = tensor(a, float64);
        using var k = torch.kron(t, t);
        return k.to(dtype, device);
    }

    /// <summary>[O, C, 3, 3] weights → [α², C, O]: G g Gᵀ per channel pair, computed in float64.</summary>
    public static Tensor FilterMatrix(Tensor weight)
    {
        Shapes.Assert(weight, -1, -1, 3, 3);
        using var scope = NewDisposeScope();
        long o = weight.shape[0], c = weight.shape[1];
        var g = weight.to(float64).permute(2, 3, 1, 0).reshape(9, c * o);
        var u = Kron(FilterT, float64, weight.device).matmul(g).view(Alpha * Alpha, c, o);
        return u.to(weight.dtype).MoveToOuterDisposeScope();
    }

    /// <param name="x">[N, H, W, C]</param>
    /// <param name="filter">[36, C, O] from <see cref="FilterMatrix"/></param>
    /// <param name="bias">[O] or null</param>
    /// <param name="padBegin">zero rows/columns before the image (top, left)</param>
    /// <param name="padEnd">zero rows/columns after the image (bottom, right)</param>
    /// <param name="residual">[N, OH, OW, O] added after the bias, or null</param>
    /// <returns>[N, OH, OW, O]</returns>
    public static Tensor Apply(Tensor x, Tensor filter, Tensor? bias, long padBegin, long padEnd, Tensor? residual = null, bool relu = false)
    {
        if (is_grad_enabled() && (x.requires_grad || filter.requires_grad)) throw new InvalidOperationException("WinogradConv2d is inference-only");
        long n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3], o = filter.shape[2];
        Shapes.Assert(filter, Alpha * Alpha, c, -1);
        long oh = h + padBegin + padEnd - 2, ow = w + padBegin + padEnd - 2;
        if (oh < 1 || ow < 1) throw new ArgumentException($"conv2d: input {h}×{w} with padding ({padBegin}, {padEnd}) is smaller than the kernel 3×3");
        if (residual is not null) Shapes.Assert(residual, n, oh, ow, o);

        using var scope = NewDisposeScope();
        const long m = M, alpha = Alpha;
        // Whole tiles: the padded input grows to m·tiles + 2 rows/columns; outputs past oh/ow are computed and cropped.
        long th = (oh + m - 1) / m, tw = (ow + m - 1) / m, hp = m * th + 2, wp = m * tw + 2;
        var xp = F.pad(x, [0, 0, padBegin, wp - w - padBegin, padBegin, hp - h - padBegin]);
        bool cropped = m * th != oh || m * tw != ow;
        var y = empty(n, m * th, m * tw, o, dtype: x.dtype, device: x.device);
        var inputT = Kron(InputT, x.dtype, x.device);
        var outputT = Kron(OutputT, x.dtype, x.device);
        long tilesPerSample = th * tw, sampleStride = hp * wp * c, baseOffset = xp.storage_offset();
        long samples = Math.Clamp(TileElements / (alpha * alpha * tilesPerSample * c), 1, n);
        var tiles = empty(alpha * alpha, samples * tilesPerSample * c, dtype: x.dtype, device: x.device);
        var transformed = empty_like(tiles);
        var outputTiles = empty(m * m, samples * tilesPerSample * o, dtype: x.dtype, device: x.device);
        for (long s0 = 0; s0 < n; s0 += samples)
        {
            using var chunkScope = NewDisposeScope();
            long ns = Math.Min(samples, n - s0), t = ns * tilesPerSample;
            var d = tiles.narrow(1, 0, t * c);
            var v = transformed.narrow(1, 0, t * c);
            var dTiles = d.view(alpha * alpha, ns, th, tw, c);
            for (long i = 0; i < alpha; i++)
                for (long j = 0; j < alpha; j++)
                    dTiles[i * alpha + j].copy_(xp.as_strided([ns, th, tw, c], [sampleStride, m * wp * c, m * c, 1],
                        baseOffset + s0 * sampleStride + i * wp * c + j * c));
            v.addmm_(inputT, d, beta: 0);
            var products = v.view(alpha * alpha, t, c).bmm(filter);
            var yt = outputTiles.narrow(1, 0, t * o);
            yt.addmm_(outputT, products.view(alpha * alpha, t * o), beta: 0);
            var yTiles = yt.view(m, m, ns, th, tw, o);
            var ySamples = y.narrow(0, s0, ns);
            for (long a = 0; a < m; a++)
                for (long b = 0; b < m; b++)
                    ySamples.as_strided([ns, th, tw, o], [m * m * th * tw * o, m * m * tw * o, m * o, 1], ySamples.storage_offset() + (a * m * tw + b) * o)
                        .copy_(yTiles[a, b]);
            var block = cropped ? ySamples.narrow(1, 0, oh).narrow(2, 0, ow) : ySamples;
            if (bias is not null) block.add_(bias);
            if (residual is not null) block.add_(residual.narrow(0, s0, ns));
            if (relu) block.relu_();
        }
        var result = cropped ? y.narrow(1, 0, oh).narrow(2, 0, ow).contiguous() : y;
        return result.MoveToOuterDisposeScope();
    }
}
