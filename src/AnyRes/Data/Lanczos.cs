using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AnyRes.Data;

/// <summary>
/// Antialiased Lanczos-3 resampling, computed like PIL's <c>Image.resize(size, LANCZOS, box)</c> (the reference's resize):
/// separable, horizontal pass first over only the rows the vertical pass needs, the kernel widened by the downscale factor,
/// coefficients normalised then held in 22-bit fixed point, and an 8-bit intermediate. Only a window of the output grid is
/// computed, so cutting a p×p patch from a large virtual image costs O(p²), not O(N²).
/// </summary>
public static class Lanczos
{
    const int Support = 3;
    const int PrecisionBits = 32 - 8 - 2;

    static double Sinc(double x) => x == 0 ? 1 : Math.Sin(Math.PI * x) / (Math.PI * x);
    static double Kernel(double x) => x > -Support && x < Support ? Sinc(x) * Sinc(x / Support) : 0;

    /// <summary>How far (in source pixels) the kernel reaches from an output pixel's centre when shrinking by <paramref name="ratio"/>.</summary>
    public static double Reach(double ratio) => Support * Math.Max(ratio, 1);

    /// <summary>Whole image to <paramref name="width"/>×<paramref name="height"/>.</summary>
    public static RgbImage Resize(RgbImage src, int width, int height) =>
        ResizeWindow(src, 0, 0, src.Width, src.Height, width, height, 0, 0, width, height);

    /// <summary>
    /// Resamples the source box [x0, x0+boxWidth) × [y0, y0+boxHeight) (source pixels, may be fractional) onto an
    /// <paramref name="outWidth"/>×<paramref name="outHeight"/> grid and returns its window of <paramref name="windowWidth"/>×<paramref name="windowHeight"/>
    /// pixels at (<paramref name="windowX"/>, <paramref name="windowY"/>).
    /// </summary>
    public static RgbImage ResizeWindow(RgbImage src, double x0, double y0, double boxWidth, double boxHeight,
        int outWidth, int outHeight, int windowX, int windowY, int windowWidth, int windowHeight)
    {
        if (windowX < 0 || windowY < 0 || windowX + windowWidth > outWidth || windowY + windowHeight > outHeight)
            throw new ArgumentOutOfRangeException(nameof(windowX), $"window {windowWidth}x{windowHeight}+{windowX}+{windowY} leaves the {outWidth}x{outHeight} grid");
        bool horizontal = outWidth != src.Width || x0 != 0 || boxWidth != src.Width;
        bool vertical = outHeight != src.Height || y0 != 0 || boxHeight != src.Height;
        var cols = Coefficients.Compute(src.Width, x0, boxWidth, outWidth, windowX, windowWidth);
        var rows = Coefficients.Compute(src.Height, y0, boxHeight, outHeight, windowY, windowHeight);
        if (!vertical) rows = Coefficients.Identity(windowY, windowHeight);
        int firstRow = rows.First, lastRow = rows.Last;
        RgbImage temp = horizontal ? Horizontal(src, cols, firstRow, lastRow - firstRow) : src.Crop(windowX, firstRow, windowWidth, lastRow - firstRow);
        return Vertical(temp, rows, firstRow);
    }

    sealed class Coefficients
    {
        public required int[] Start;
        public required int[] Count;
        public required int[] Weights;   // [outputs, Stride], fixed point
        public required int Stride;
        public int First => Start.Min();
        public int Last => Enumerable.Range(0, Start.Length).Max(i => Start[i] + Count[i]);

        public static Coefficients Identity(int first, int count) => new()
        {
            Start = Enumerable.Range(first, count).ToArray(), Count = Enumerable.Repeat(1, count).ToArray(),
            Weights = Enumerable.Repeat(1 << PrecisionBits, count).ToArray(), Stride = 1,
        };

        /// <summary>PIL's precompute_coeffs + normalize_coeffs_8bpc for outputs [first, first+count) of an outSize grid.</summary>
        public static Coefficients Compute(int inSize, double in0, double boxSize, int outSize, int first, int count)
        {
            double scale = boxSize / outSize, filterScale = Math.Max(scale, 1), support = Support * filterScale, ss = 1 / filterScale;
            int stride = (int)Math.Ceiling(support) * 2 + 1;
            var c = new Coefficients { Start = new int[count], Count = new int[count], Weights = new int[count * stride], Stride = stride };
            var k = new double[stride];
            for (int i = 0; i < count; i++)
            {
                double center = in0 + (first + i + 0.5) * scale;
                int xmin = Math.Max((int)(center - support + 0.5), 0);
                int xmax = Math.Min((int)(center + support + 0.5), inSize) - xmin;
                double total = 0;
                for (int x = 0; x < xmax; x++) total += k[x] = Kernel((x + xmin - center + 0.5) * ss);
                for (int x = 0; x < xmax; x++)
                {
                    double w = total != 0 ? k[x] / total : k[x];
                    c.Weights[i * stride + x] = (int)(w < 0 ? -0.5 + w * (1 << PrecisionBits) : 0.5 + w * (1 << PrecisionBits));
                }
                // Zero weights contribute nothing: drop them from both ends (a unit-ratio resize becomes a single tap).
                int lead = 0, used = Math.Max(xmax, 0);
                while (used > 1 && c.Weights[i * stride + used - 1] == 0) used--;
                while (lead < used - 1 && c.Weights[i * stride + lead] == 0) lead++;
                if (lead > 0) Array.Copy(c.Weights, i * stride + lead, c.Weights, i * stride, used - lead);
                c.Start[i] = xmin + lead;
                c.Count[i] = used - lead;
            }
            return c;
        }
    }

    static byte Clip8(int v) => v >= 255 << PrecisionBits ? (byte)255 : v <= 0 ? (byte)0 : (byte)(v >> PrecisionBits);

    static unsafe RgbImage Horizontal(RgbImage src, Coefficients cols, int firstRow, int rowCount)
    {
        int outW = cols.Start.Length, srcW = src.Width;
        var dst = new RgbImage(outW, rowCount);
        fixed (byte* s0 = src.Pixels, d0 = dst.Pixels)
        fixed (int* w0 = cols.Weights)
        {
            for (int r = 0; r < rowCount; r++)
            {
                byte* row = s0 + (long)(firstRow + r) * srcW * 3;
                byte* d = d0 + (long)r * outW * 3;
                for (int i = 0; i < outW; i++)
                {
                    int* w = w0 + i * cols.Stride;
                    byte* p = row + cols.Start[i] * 3;
                    int n = cols.Count[i], r0 = 1 << (PrecisionBits - 1), g0 = r0, b0 = r0;
                    for (int x = 0; x < n; x++, p += 3)
                    {
                        r0 += p[0] * w[x]; g0 += p[1] * w[x]; b0 += p[2] * w[x];
                    }
                    d[3 * i] = Clip8(r0); d[3 * i + 1] = Clip8(g0); d[3 * i + 2] = Clip8(b0);
                }
            }
        }
        return dst;
    }

    static unsafe RgbImage Vertical(RgbImage src, Coefficients rows, int firstRow)
    {
        int outH = rows.Start.Length, width = src.Width, rowBytes = width * 3;
        var dst = new RgbImage(width, outH);
        var acc = new int[rowBytes + 8];
        fixed (byte* s0 = src.Pixels, d0 = dst.Pixels)
        fixed (int* w0 = rows.Weights, a0 = acc)
        {
            for (int j = 0; j < outH; j++)
            {
                int* w = w0 + j * rows.Stride;
                byte* top = s0 + (long)(rows.Start[j] - firstRow) * rowBytes;
                byte* d = d0 + (long)j * rowBytes;
                int n = rows.Count[j];
                // Rows in the outer loop: contiguous reads, and 8 lanes at a time where AVX2 exists (same integer arithmetic).
                Array.Fill(acc, 1 << (PrecisionBits - 1));
                int vectorEnd = Avx2.IsSupported ? rowBytes / 8 * 8 : 0;
                for (int y = 0; y < n; y++)
                {
                    byte* row = top + (long)y * rowBytes;
                    int wy = w[y];
                    if (wy == 0) continue;
                    if (vectorEnd > 0)
                    {
                        var weight = Vector256.Create(wy);
                        for (int b = 0; b < vectorEnd; b += 8)
                            Avx.Store(a0 + b, Avx2.Add(Avx.LoadVector256(a0 + b), Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(row + b), weight)));
                    }
                    for (int b = vectorEnd; b < rowBytes; b++) a0[b] += row[b] * wy;
                }
                for (int b = 0; b < rowBytes; b++) d[b] = Clip8(a0[b]);
            }
        }
        return dst;
    }
}
