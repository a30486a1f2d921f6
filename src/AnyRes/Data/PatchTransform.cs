using TorchSharp;

namespace AnyRes.Data;

/// <summary>
/// The 3×3 patch transform of spec §4.4 (<c>util/patch_util.py::construct_transformation_matrix</c>): it maps a position g on the
/// generator's own output grid (SG3 units, the output spans [−0.5, 0.5]) to the canonical full image, q = T[:2,:2]·g + T[:2,2].
/// For a p×p crop at pixel (x, y) of an N×N virtual image: T = [[p/N, 0, cx/2], [0, p/N, cy/2], [0, 0, 1]] where (cx, cy) is the
/// crop centre in normalised coordinates ([−1, 1] over the full image).
/// </summary>
public readonly record struct PatchTransform(double Scale, double TranslateX, double TranslateY)
{
    public static PatchTransform Identity => new(1, 0, 0);

    /// <summary>Zoom k = N/p = 1/T[0,0]: how many generator outputs span the virtual image's side.</summary>
    public double Zoom => 1.0 / Scale;

    /// <summary>The transform of a <paramref name="patch"/>-pixel square at column <paramref name="x"/>, row <paramref name="y"/> of an N×N virtual image (N may be fractional for regions).</summary>
    public static PatchTransform FromCrop(double x, double y, double patch, double virtualSize) =>
        FromLimits(2 * x / virtualSize - 1, 2 * (x + patch) / virtualSize - 1, 2 * y / virtualSize - 1, 2 * (y + patch) / virtualSize - 1);

    /// <summary>From normalised limits (columns u0..u1, rows v0..v1, the full image spans [−1, 1]); the window must be square.</summary>
    public static PatchTransform FromLimits(double u0, double u1, double v0, double v1)
    {
        double sx = (u1 - u0) / 2, sy = (v1 - v0) / 2;
        if (Math.Abs(sx - sy) > 1e-9 * Math.Max(1, Math.Abs(sx)))
            throw new ArgumentException($"patch window must be square: half-extents {sx} (x) and {sy} (y) differ");
        return new PatchTransform(sx, (u0 + u1) / 4, (v0 + v1) / 4);
    }

    /// <summary>Row-major 3×3 values.</summary>
    public float[] ToArray() => new[] { (float)Scale, 0f, (float)TranslateX, 0f, (float)Scale, (float)TranslateY, 0f, 0f, 1f };

    /// <summary>A [B, 3, 3] float32 tensor of the given transforms.</summary>
    public static torch.Tensor Stack(IReadOnlyList<PatchTransform> transforms, torch.Device? device = null)
    {
        var values = new float[transforms.Count * 9];
        for (int i = 0; i < transforms.Count; i++) transforms[i].ToArray().CopyTo(values, i * 9);
        return torch.tensor(values, new long[] { transforms.Count, 3, 3 }, device: device);
    }
}
