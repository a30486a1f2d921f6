namespace AnyRes.Data;

/// <summary>
/// One draw of the patch sampler (spec §4.3): the m×m square at (CropX, CropY) of the upright image, the virtual size N
/// (NewSize), drawn as RandomSize ~ U(size_min, size_max) then rounded half-to-even, and the p×p crop at (X, Y) of the N×N
/// resized square. Mirrored draws refer to the horizontally flipped image.
/// </summary>
public readonly record struct PatchDraw(int CropX, int CropY, int Side, double RandomSize, int NewSize, int X, int Y, bool Mirrored);

/// <summary>The sampling law and geometry of <c>util/patch_util.py::PatchSampler</c>, without the Python RNG.</summary>
public static class PatchSampler
{
    /// <summary>
    /// Range of the virtual size N for a square of <paramref name="side"/> pixels: [p / scaleMax, p / max(p/side, scaleMin)].
    /// Scale = p / size, so scaleMax bounds the smallest virtual image and scaleMin the largest.
    /// </summary>
    public static (double Min, double Max) SizeRange(int patch, int side, double scaleMax, double? scaleMin)
    {
        double sLo = (double)patch / side;
        if (scaleMin is { } lo) sLo = Math.Max(sLo, lo);
        return (patch / scaleMax, patch / sLo);
    }

    /// <summary>numpy's round (half to even), as the reference rounds p/scale to an integer size.</summary>
    public static int RoundSize(double randomSize) => (int)Math.Round(randomSize, MidpointRounding.ToEven);

    /// <summary>Normalised limits [(v0, v1), (u0, u1)] (rows first, as the reference stores them) of the crop.</summary>
    public static ((double, double) Rows, (double, double) Cols) Limits(int newSize, int x, int y, int patch) =>
        ((y / (double)newSize * 2 - 1, (y + patch) / (double)newSize * 2 - 1), (x / (double)newSize * 2 - 1, (x + patch) / (double)newSize * 2 - 1));

    public static PatchTransform Transform(int newSize, int x, int y, int patch)
    {
        var (rows, cols) = Limits(newSize, x, y, patch);
        return PatchTransform.FromLimits(cols.Item1, cols.Item2, rows.Item1, rows.Item2);
    }

    /// <summary>Draws the square crop, N and the crop origin for an image of the given upright size.</summary>
    public static PatchDraw Draw(SampleRng rng, int width, int height, int patch, double scaleMax, double? scaleMin, bool randomCrop, bool mirrored)
    {
        int m = Math.Min(width, height);
        int cx = randomCrop ? rng.Int(0, width - m) : (width - m) / 2;
        int cy = randomCrop ? rng.Int(0, height - m) : (height - m) / 2;
        var (lo, hi) = SizeRange(patch, m, scaleMax, scaleMin);
        if (lo > hi + 1e-9) throw new ArgumentException($"a {m}-pixel square cannot give virtual sizes >= {lo:g6} (p / scale-max)");
        double r = rng.Uniform(lo, hi);
        int n = Math.Min(RoundSize(r), m);
        int x = rng.Int(0, n - patch), y = rng.Int(0, n - patch);
        return new PatchDraw(cx, cy, m, r, n, x, y, mirrored);
    }
}
