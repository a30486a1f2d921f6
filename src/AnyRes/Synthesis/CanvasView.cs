using AnyRes.Core;
using AnyRes.Data;

namespace AnyRes.Synthesis;

/// <summary>
/// Which pixels of the canonical frame an output image shows (spec §8). The frame is rendered as a virtual N×N canvas
/// (N may be fractional); output pixel (i, j) is canvas pixel (OriginX + i, OriginY + j), so every output pixel centre is
/// a canvas pixel centre and tiles cut anywhere from the output are pixel-aligned with each other (spec §4.4).
/// </summary>
public sealed record CanvasView(int Width, int Height, double VirtualSize, double OriginX, double OriginY)
{
    /// <summary>The whole frame at canvas size N (default: max(W, H), so the frame covers the output), centred; the origin is a
    /// whole canvas pixel so the output is exactly a crop of the N×N render.</summary>
    public static CanvasView FullFrame(int width, int height, double? virtualSize = null)
    {
        CheckSize(width, height);
        double n = virtualSize ?? Math.Max(width, height);
        if (!(n > 0) || double.IsInfinity(n)) throw new AnyResException($"canvas size must be positive, got {n}");
        return new CanvasView(width, height, n, Math.Floor((n - width) / 2), Math.Floor((n - height) / 2));
    }

    /// <summary>
    /// The region [x0, x1]×[y0, y1] of the frame (fractions: 0 = left/top edge, 1 = right/bottom edge; values outside extrapolate)
    /// at W×H. Pixels are square, so when the region's aspect ratio differs from the output's the output shows the centred part of
    /// the region that fills it (cover).
    /// </summary>
    public static CanvasView Region(int width, int height, double x0, double y0, double x1, double y1)
    {
        CheckSize(width, height);
        if (!(x1 > x0) || !(y1 > y0)) throw new AnyResException($"region {x0},{y0},{x1},{y1}: need x0 < x1 and y0 < y1");
        double n = Math.Max(width / (x1 - x0), height / (y1 - y0));
        return new CanvasView(width, height, n, (x0 + x1) / 2 * n - width / 2.0, (y0 + y1) / 2 * n - height / 2.0);
    }

    /// <summary>
    /// One frame of a zoom towards the point (cx, cy) of the frame (fractions): at zoom k the canvas is k·max(W, H) and the
    /// point stays where it is on screen at zoom 1, so the view never leaves the frame for k ≥ 1.
    /// </summary>
    public static CanvasView Zoom(int width, int height, double zoom, double centerX, double centerY)
    {
        CheckSize(width, height);
        if (!(zoom > 0)) throw new AnyResException($"zoom must be positive, got {zoom}");
        double n = zoom * Math.Max(width, height);
        double vx = centerX - (centerX - 0.5) / zoom, vy = centerY - (centerY - 0.5) / zoom;   // view centre, frame fractions
        return new CanvasView(width, height, n, vx * n - width / 2.0, vy * n - height / 2.0);
    }

    /// <summary>
    /// A whole 360° panorama of height H: the frame is H×H canvas pixels and one turn <paramref name="period"/> frames, so the
    /// strip is H·period wide, starting at frame 0's left edge; its right edge continues into its left edge.
    /// </summary>
    public static CanvasView Panorama(int height, double period) => Region(PanoramaWidth(height, period), height, 0, 0, period, 1);

    /// <summary>Width of the whole strip at height H (rounded: the seam is exact when H·period is whole).</summary>
    public static int PanoramaWidth(int height, double period) => (int)Math.Max(1, Math.Round(height * period));

    /// <summary>The transform of the p×p tile whose top-left output pixel is (x, y).</summary>
    public PatchTransform TileTransform(int x, int y, int tileSize) => PatchTransform.FromCrop(OriginX + x, OriginY + y, tileSize, VirtualSize);

    public long PixelCount => (long)Width * Height;

    static void CheckSize(int width, int height)
    {
        if (width < 1 || height < 1) throw new AnyResException($"image size must be at least 1x1, got {width}x{height}");
    }
}
