namespace AnyRes.Data;

/// <summary>A grid of tiles, each with a short label underneath drawn in a built-in 3×5 pixel font (no font files needed).</summary>
public static class ContactSheet
{
    const int Gap = 4, GlyphScale = 2, LabelHeight = 5 * GlyphScale + 2 * Gap;

    // 3×5 glyphs, one row per string, '#' = ink.
    static readonly Dictionary<char, string[]> Glyphs = new()
    {
        ['0'] = ["###", "#.#", "#.#", "#.#", "###"], ['1'] = [".#.", "##.", ".#.", ".#.", "###"], ['2'] = ["###", "..#", "###", "#..", "###"],
        ['3'] = ["###", "..#", "###", "..#", "###"], ['4'] = ["#.#", "#.#", "###", "..#", "..#"], ['5'] = ["###", "#..", "###", "..#", "###"],
        ['6'] = ["###", "#..", "###", "#.#", "###"], ['7'] = ["###", "..#", "..#", ".#.", ".#."], ['8'] = ["###", "#.#", "###", "#.#", "###"],
        ['9'] = ["###", "#.#", "###", "..#", "###"], ['.'] = ["...", "...", "...", "...", ".#."], ['='] = ["...", "###", "...", "###", "..."],
        ['k'] = ["#..", "#.#", "##.", "#.#", "#.#"], ['x'] = ["...", "#.#", ".#.", "#.#", "..."], ['N'] = ["#.#", "###", "###", "###", "#.#"],
        [' '] = ["...", "...", "...", "...", "..."],
    };

    public static RgbImage Compose(IReadOnlyList<(RgbImage Tile, string Label)> tiles, int columns)
    {
        if (tiles.Count == 0) throw new ArgumentException("no tiles");
        int tw = tiles.Max(t => t.Tile.Width), th = tiles.Max(t => t.Tile.Height);
        int rows = (tiles.Count + columns - 1) / columns;
        int cellW = tw + Gap, cellH = th + LabelHeight;
        var sheet = new RgbImage(columns * cellW + Gap, rows * cellH + Gap);
        Array.Fill(sheet.Pixels, (byte)255);
        for (int i = 0; i < tiles.Count; i++)
        {
            int ox = Gap + i % columns * cellW, oy = Gap + i / columns * cellH;
            var tile = tiles[i].Tile;
            for (int y = 0; y < tile.Height; y++)
                Array.Copy(tile.Pixels, y * tile.Width * 3, sheet.Pixels, ((oy + y) * sheet.Width + ox) * 3, tile.Width * 3);
            DrawText(sheet, tiles[i].Label, ox, oy + th + Gap);
        }
        return sheet;
    }

    static void DrawText(RgbImage image, string text, int x, int y)
    {
        foreach (char c in text)
        {
            if (!Glyphs.TryGetValue(c, out var glyph)) glyph = Glyphs[' '];
            for (int gy = 0; gy < 5; gy++)
                for (int gx = 0; gx < 3; gx++)
                    if (glyph[gy][gx] == '#')
                        for (int dy = 0; dy < GlyphScale; dy++)
                            for (int dx = 0; dx < GlyphScale; dx++)
                            {
                                int px = x + gx * GlyphScale + dx, py = y + gy * GlyphScale + dy;
                                if (px < image.Width && py < image.Height) Array.Clear(image.Pixels, (py * image.Width + px) * 3, 3);
                            }
            x += 4 * GlyphScale;
        }
    }
}
