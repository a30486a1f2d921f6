using AnyRes.Core;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AnyRes.Ops;

/// <summary>
/// Inference 3×3 stride-1 convolution on channels-last activations [N, H, W, C] by Winograd's minimal filtering F(4×4, 3×3)
/// (Lavin &amp; Gray 2016): each 4×4 output tile is Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A of its 6×6 input tile d, so 36 products per
/// tile and channel pair replace 144 and the GEMMs shrink 4× (ResNet18 spends four fifths of its time in such layers).
/// Per chunk of samples: Bᵀ d B of every tile into 36 planes [tiles, C] (vectorised over channels, Bᵀ and Aᵀ written out as
/// adds), the 36 products [tiles, C] × [C, O] in one batched GEMM (MKL), then Aᵀ m A with the bias, the residual and the
/// ReLU straight into the output's in-bounds pixels (as Kronecker-product GEMMs on gathered tiles the transforms cost 6.3
/// ms per image, these 4). The float32 result stays within ~1e-5 of the direct convolution, relative to its largest value.
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

    /// <summary>G of F(4, 3), interpolation points 0, ±1, ±2 and ∞ (Bᵀ and Aᵀ are written out in InputRow and OutputRow).</summary>
    static readonly double[,] FilterT =
    {
        { 1 / 4.0, 0, 0 }, { -1 / 6.0, -1 / 6.0, -1 / 6.0 }, { -1 / 6.0, 1 / 6.0, -1 / 6.0 },
        { 1 / 24.0, 1 / 12.0, 1 / 6.0 }, { 1 / 24.0, -1 / 12.0, 1 / 6.0 }, { 0, 0, 1 },
    };

    /// <summary>A ⊗ A in float64 for a matrix A given as rows.</summary>
    static Tensor Kron(double[,] a, Device device)
    {
        using var t = tensor(a, float64, device);
        return torch.kron(t, t);
    }

    /// <summary>[O, C, 3, 3] weights → [α², C, O]: G g Gᵀ per channel pair, computed in float64.</summary>
    public static Tensor FilterMatrix(Tensor weight)
    {
        Shapes.Assert(weight, -1, -1, 3, 3);
        using var scope = NewDisposeScope();
        long o = weight.shape[0], c = weight.shape[1];
        var g = weight.to(float64).permute(2, 3, 1, 0).reshape(9, c * o);
        var u = Kron(FilterT, weight.device).matmul(g).view(Alpha * Alpha, c, o);
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
        long n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3], o = filter.shape[2];
        Shapes.Assert(filter, Alpha * Alpha, c, -1);
        var (oh, ow) = ChannelsLastConv2d.OutputSize(nameof(WinogradConv2d), x, filter, 3, 3, 1, padBegin, padEnd, residual, o);
        if (x.device_type != DeviceType.CPU || x.dtype != float32) throw new ArgumentException("WinogradConv2d: float32 tensors on the CPU only");

        using var scope = NewDisposeScope();
        // Channels padded to whole vectors (never for ResNet18); zero channels add nothing.
        long lanes = Vector<float>.Count, cp = RoundUp(c, lanes), op = RoundUp(o, lanes);
        if (cp != c || op != o) filter = F.pad(filter, [0, op - o, 0, cp - c]);
        // Whole tiles: the padded input grows to m·tiles + 2 rows/columns; outputs past oh/ow are never stored.
        long th = (oh + M - 1) / M, tw = (ow + M - 1) / M;
        var xp = F.pad(x, [0, cp - c, padBegin, M * tw + 2 - w - padBegin, padBegin, M * th + 2 - h - padBegin]).contiguous();
        var y = empty(n, oh, ow, o, dtype: float32);
        // The kernels read raw float32 memory.
        var b = bias?.to(float32).contiguous();
        var res = residual?.to(float32).contiguous();
        var geometry = new Geometry(th, tw, cp, op, oh, ow, o);
        long samples = Math.Clamp(TileElements / (Alpha * Alpha * th * tw * cp), 1, n);
        var tiles = empty(Alpha * Alpha * samples * th * tw * cp, dtype: float32);
        int threads = Math.Max(1, torch.get_num_threads());
        for (long s0 = 0; s0 < n; s0 += samples)
        {
            using var chunkScope = NewDisposeScope();
            long ns = Math.Min(samples, n - s0), t = ns * th * tw;
            var v = tiles.narrow(0, 0, Alpha * Alpha * t * cp).view(Alpha * Alpha, t, cp);
            unsafe
            {
                var chunk = new Chunk(geometry, s0, t, Pointer(xp), Pointer(v), Pointer(y),
                    b is null ? null : Pointer(b), res is null ? null : Pointer(res), relu);
                ForTiles(t, threads, chunk.InputTile);
                using var products = v.bmm(filter);
                chunk.Products = Pointer(products);
                ForTiles(t, threads, chunk.OutputTile);
            }
        }
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>The first element of a contiguous CPU tensor (libtorch's memory: never moved by the GC).</summary>
    static unsafe float* Pointer(Tensor t) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes));

    static long RoundUp(long value, long multiple) => (value + multiple - 1) / multiple * multiple;

    static void ForTiles(long tiles, int threads, Action<long> tile)
    {
        if (threads == 1) { for (long i = 0; i < tiles; i++) tile(i); return; }
        long parts = Math.Min(tiles, threads * 4L);
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = threads }, part =>
        {
            for (long i = tiles * part / parts, end = tiles * (part + 1) / parts; i < end; i++) tile(i);
        });
    }

    /// <summary>Tiles per row and column, padded channel counts, and the output's size.</summary>
    readonly record struct Geometry(long TileRows, long TileColumns, long InChannels, long OutChannels, long OutHeight, long OutWidth, long Outputs);

    /// <summary>The tile transforms of one chunk of samples, on raw float32 memory (all tensors contiguous).</summary>
    sealed unsafe class Chunk(Geometry g, long firstSample, long tiles, float* xp, float* v, float* y, float* bias, float* residual, bool relu)
    {
        public float* Products;

        /// <summary>The sample (in the whole batch) and the tile row and column of the chunk's tile-th tile.</summary>
        (long sample, long ty, long tx) Locate(long tile)
        {
            long tilesPerSample = g.TileRows * g.TileColumns, inSample = tile % tilesPerSample;
            return (firstSample + tile / tilesPerSample, inSample / g.TileColumns, inSample % g.TileColumns);
        }

        /// <summary>Bᵀ d B of one tile, all channels: the 6×6 inputs at (4·ty, 4·tx) → v[k, tile, :], k = 6u + v.</summary>
        public void InputTile(long tile)
        {
            var (sample, ty, tx) = Locate(tile);
            long c = g.InChannels, wp = M * g.TileColumns + 2;
            float* origin = xp + ((sample * (M * g.TileRows + 2) + M * ty) * wp + M * tx) * c;
            long plane = tiles * c;
            float* outTile = v + tile * c;
            var rows = stackalloc Vector<float>[36];
            var column = stackalloc Vector<float>[6];
            for (long ch = 0; ch < c; ch += Vector<float>.Count)
            {
                for (int i = 0; i < 6; i++)
                {
                    float* row = origin + i * wp * c + ch;
                    InputRow(Load(row), Load(row + c), Load(row + 2 * c), Load(row + 3 * c), Load(row + 4 * c), Load(row + 5 * c), rows + 6 * i);
                }
                for (int j = 0; j < 6; j++)
                {
                    var (d0, d1, d2, d3, d4, d5) = (rows[j], rows[6 + j], rows[12 + j], rows[18 + j], rows[24 + j], rows[30 + j]);
                    InputRow(d0, d1, d2, d3, d4, d5, column);
                    for (int u = 0; u < 6; u++) Store(outTile + (6 * u + j) * plane + ch, column[u]);
                }
            }
        }

        /// <summary>Aᵀ m A of one tile, all channels, plus bias, residual and ReLU → the in-bounds pixels of y.</summary>
        public void OutputTile(long tile)
        {
            var (sample, ty, tx) = Locate(tile);
            long op = g.OutChannels, o = g.Outputs;
            long plane = tiles * op;
            float* products = Products + tile * op;
            var rows = stackalloc Vector<float>[24];
            var column = stackalloc Vector<float>[4];
            var pixel = stackalloc float[Vector<float>.Count];
            for (long ch = 0; ch < op; ch += Vector<float>.Count)
            {
                for (int u = 0; u < 6; u++)
                {
                    float* row = products + 6 * u * plane + ch;
                    OutputRow(Load(row), Load(row + plane), Load(row + 2 * plane), Load(row + 3 * plane), Load(row + 4 * plane), Load(row + 5 * plane), rows + 4 * u);
                }
                var b = bias is null ? Vector<float>.Zero : LoadPartial(bias + ch, o - ch, pixel);
                for (int bx = 0; bx < 4; bx++)
                {
                    long px = M * tx + bx;
                    if (px >= g.OutWidth) break;
                    OutputRow(rows[bx], rows[4 + bx], rows[8 + bx], rows[12 + bx], rows[16 + bx], rows[20 + bx], column);
                    for (int a = 0; a < 4; a++)
                    {
                        long py = M * ty + a;
                        if (py >= g.OutHeight) break;
                        long offset = ((sample * g.OutHeight + py) * g.OutWidth + px) * o + ch;
                        var value = column[a] + b;
                        if (residual is not null) value += LoadPartial(residual + offset, o - ch, pixel);
                        if (relu) value = Vector.Max(value, Vector<float>.Zero);
                        StorePartial(y + offset, value, o - ch, pixel);
                    }
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static Vector<float> Load(float* p) => Unsafe.ReadUnaligned<Vector<float>>(p);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Store(float* p, Vector<float> value) => Unsafe.WriteUnaligned(p, value);

        /// <summary>The first min(count, lanes) floats at p, zeros after (channels beyond the real ones).</summary>
        static Vector<float> LoadPartial(float* p, long count, float* scratch)
        {
            if (count >= Vector<float>.Count) return Load(p);
            for (int i = 0; i < Vector<float>.Count; i++) scratch[i] = i < count ? p[i] : 0;
            return Load(scratch);
        }

        static void StorePartial(float* p, Vector<float> value, long count, float* scratch)
        {
            if (count >= Vector<float>.Count) { Store(p, value); return; }
            Store(scratch, value);
            for (int i = 0; i < count; i++) p[i] = scratch[i];
        }
    }

    /// <summary>Bᵀ applied to six values (a row or column of a tile), written to r[0..5].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void InputRow(Vector<float> d0, Vector<float> d1, Vector<float> d2, Vector<float> d3, Vector<float> d4, Vector<float> d5, Vector<float>* r)
    {
        Vector<float> four = new(4f), five = new(5f), two = new(2f);
        r[0] = four * d0 - five * d2 + d4;
        r[1] = d3 + d4 - four * (d1 + d2);
        r[2] = d4 - d3 + four * (d1 - d2);
        r[3] = d4 - d2 + two * (d3 - d1);
        r[4] = d4 - d2 - two * (d3 - d1);
        r[5] = four * d1 - five * d3 + d5;
    }

    /// <summary>Aᵀ applied to six values, written to r[0..3].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void OutputRow(Vector<float> m0, Vector<float> m1, Vector<float> m2, Vector<float> m3, Vector<float> m4, Vector<float> m5, Vector<float>* r)
    {
        Vector<float> sum12 = m1 + m2, diff12 = m1 - m2, sum34 = m3 + m4, diff34 = m3 - m4;
        r[0] = m0 + sum12 + sum34;
        r[1] = diff12 + new Vector<float>(2f) * diff34;
        r[2] = sum12 + new Vector<float>(4f) * sum34;
        r[3] = diff12 + new Vector<float>(8f) * diff34 + m5;
    }
}
