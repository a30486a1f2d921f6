namespace AnyRes.Synthesis;

/// <summary>
/// The p×p tiles covering a W×H output (spec §8.1, generalised to rectangles): origins 0, p, 2p, … along each axis, the last one
/// moved back to W − p (H − p) so it overlaps its neighbour rather than overrunning. Overlaps are not blended: each pixel is taken
/// from the first tile in raster order that covers it, which is what lets rows stream out as soon as a tile row is done.
/// An axis shorter than p gets one tile at 0 whose surplus is cropped.
/// </summary>
public sealed class TileGrid
{
    public int TileSize { get; }
    /// <summary>Tile origins along x (columns) and y (rows), in output pixels.</summary>
    public IReadOnlyList<int> Xs { get; }
    public IReadOnlyList<int> Ys { get; }
    /// <summary>The [start, end) output range each tile column/row contributes (its part not covered by an earlier one).</summary>
    public IReadOnlyList<(int Start, int End)> OwnedX { get; }
    public IReadOnlyList<(int Start, int End)> OwnedY { get; }

    public TileGrid(int width, int height, int tileSize)
    {
        if (tileSize < 1) throw new ArgumentOutOfRangeException(nameof(tileSize));
        TileSize = tileSize;
        (Xs, OwnedX) = Axis(width, tileSize);
        (Ys, OwnedY) = Axis(height, tileSize);
    }

    public int Columns => Xs.Count;
    public int Rows => Ys.Count;
    public int Count => Xs.Count * Ys.Count;

    static (int[] Origins, (int, int)[] Owned) Axis(int length, int p)
    {
        var origins = new List<int>();
        for (int x = 0; x < length; x += p) origins.Add(Math.Max(0, Math.Min(x, length - p)));
        var owned = new (int, int)[origins.Count];
        int covered = 0;
        for (int i = 0; i < origins.Count; i++)
        {
            owned[i] = (covered, Math.Min(origins[i] + p, length));
            covered = owned[i].Item2;
        }
        return (origins.ToArray(), owned);
    }
}
