using AnyRes.Synthesis;

namespace AnyRes.Web;

/// <summary>
/// The Deep Zoom pyramid of one canvas. The base is the model's own output: p pixels on the canvas's longer side, the frame
/// fitted to cover it (as <see cref="CanvasView.FullFrame"/>), zoom 1. Each of the <c>levelsPastBase</c> levels above it doubles
/// the virtual canvas, so level L is rendered by the model at zoom 2^(L − BaseLevel): its tile (c, r) is the T×T crop at
/// (c·T, r·T) of that level's canvas, never a resampled copy of another level. Levels below the base (zoom &lt; 1, where the
/// generator is outside anything it was trained on) exist in the DZI numbering only; the page never asks for them.
/// A panorama's canvas is its whole 360° strip instead: p high, p·period wide, starting at frame 0's left edge, so the
/// strip's right edge continues into its left at every level.
/// </summary>
public sealed class DeepZoomPyramid
{
    public int P { get; }
    public int TileSize { get; }
    public int BaseWidth { get; }
    public int BaseHeight { get; }
    public int LevelsPastBase { get; }
    /// <summary>A panorama's frames per turn (the strip's width in frames), else null.</summary>
    public double? PanoramaPeriod { get; }
    /// <summary>DZI numbering: level MaxLevel is the full image, level 0 is 1×1.</summary>
    public int MaxLevel { get; }
    public int BaseLevel => MaxLevel - LevelsPastBase;
    public int Width => BaseWidth << LevelsPastBase;
    public int Height => BaseHeight << LevelsPastBase;

    public DeepZoomPyramid(int p, int aspectWidth, int aspectHeight, int tileSize, int levelsPastBase, double? panoramaPeriod = null)
    {
        if (p < 1 || tileSize < 1 || aspectWidth < 1 || aspectHeight < 1 || levelsPastBase < 0) throw new ArgumentOutOfRangeException(nameof(p));
        (P, TileSize, LevelsPastBase, PanoramaPeriod) = (p, tileSize, levelsPastBase, panoramaPeriod);
        (BaseWidth, BaseHeight) = panoramaPeriod is double period ? (CanvasView.PanoramaWidth(p, period), p)
            : aspectWidth >= aspectHeight
            ? (p, Math.Max(1, (int)Math.Round((double)p * aspectHeight / aspectWidth)))
            : (Math.Max(1, (int)Math.Round((double)p * aspectWidth / aspectHeight)), p);
        if ((long)Math.Max(BaseWidth, BaseHeight) << levelsPastBase > 1 << 30) throw new ArgumentOutOfRangeException(nameof(levelsPastBase));
        while (1L << MaxLevel < Math.Max(Width, Height)) MaxLevel++;
    }

    /// <summary>Size of level L in DZI's convention: the full image halved (rounding up) once per level below the top.</summary>
    public (int Width, int Height) LevelSize(int level)
    {
        int shift = MaxLevel - level;
        return ((int)((Width + (1L << shift) - 1) >> shift), (int)((Height + (1L << shift) - 1) >> shift));
    }

    public (int Columns, int Rows) TileCount(int level)
    {
        var (w, h) = LevelSize(level);
        return ((w + TileSize - 1) / TileSize, (h + TileSize - 1) / TileSize);
    }

    /// <summary>Zoom of a rendered level relative to the base size (1 at the base level).</summary>
    public double Zoom(int level) => Math.Pow(2, level - BaseLevel);

    /// <summary>The canvas view of tile (column, row) of a level at or above the base: edge tiles are cut to the level's size.</summary>
    public CanvasView TileView(int level, int column, int row)
    {
        if (level < BaseLevel || level > MaxLevel) throw new ArgumentOutOfRangeException(nameof(level));
        var (w, h) = LevelSize(level);
        int x = column * TileSize, y = row * TileSize;
        if (column < 0 || row < 0 || x >= w || y >= h) throw new ArgumentOutOfRangeException(nameof(column));
        double n = P * Zoom(level);
        double originX = PanoramaPeriod is null ? (n - w) / 2 : 0;   // a panorama's strip starts at frame 0's left edge
        return new CanvasView(Math.Min(TileSize, w - x), Math.Min(TileSize, h - y), n, originX + x, (n - h) / 2 + y);
    }

    /// <summary>
    /// The part [u0, u1]×[v0, v1] of the canvas (fractions of its width and height) at width×height pixels, rendered at whatever
    /// zoom that makes (for "save this view"): the same frame coordinates the tiles use, so the file matches the screen.
    /// </summary>
    public CanvasView RegionView(double u0, double v0, double u1, double v1, int width, int height)
    {
        double ox = PanoramaPeriod is null ? (P - BaseWidth) / 2.0 : 0, oy = (P - BaseHeight) / 2.0;   // the base canvas's origin on the p×p frame
        return CanvasView.Region(width, height, (ox + u0 * BaseWidth) / P, (oy + v0 * BaseHeight) / P, (ox + u1 * BaseWidth) / P, (oy + v1 * BaseHeight) / P);
    }
}
