using AnyRes.Networks;
using AnyRes.Synthesis;
using AnyRes.Tests.Networks;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace AnyRes.Tests.Synthesis;

/// <summary>The official global-360 fixture model (random weights, fov 60) rendered as a strip: one turn, edges joined.</summary>
[Trait("Category", "Import")]
public class PanoramaRenderTests(ITestOutputHelper output)
{
    static GeneratorTiles Pano()
    {
        OfficialSnapshotTests.UseTestCache();
        return GeneratorTiles.Load(Path.Combine(AppContext.BaseDirectory, "fixtures", "official", "pano360_32.pkl"), CPU);
    }

    static double MeanAbsColumnStep(ImageBuffer image, int x0, int x1)
    {
        double sum = 0;
        for (int y = 0; y < image.Height; y++)
            for (int c = 0; c < image.Channels; c++) sum += Math.Abs(image[y, x1, c] - image[y, x0, c]);
        return sum / (image.Height * image.Channels);
    }

    [Fact]
    public void The_strip_is_one_turn_and_its_edges_join()
    {
        var tiles = Pano();
        Assert.Equal(6.0, tiles.G.PanoramaPeriod);
        using var ws = tiles.Map(3);
        int h = 48;                                              // not a multiple of the 32-px tile: tiles overlap at the ends
        var strip = CanvasView.Panorama(h, 6);
        Assert.Equal((288, 48), (strip.Width, strip.Height));
        var twoTurns = CanvasView.Region(2 * strip.Width, h, 0, 0, 12, 1);
        var image = Rendering.RenderImage(tiles, ws, twoTurns);

        // The second turn repeats the first: the features are periodic and the tiles of both turns sample the same field.
        double worst = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < strip.Width; x++)
                for (int c = 0; c < 3; c++) worst = Math.Max(worst, Math.Abs(image[y, x + strip.Width, c] - image[y, x, c]));
        Assert.True(worst < 1e-3, $"second turn differs from the first by up to {worst}");

        // The seam (last column → first column) steps like any neighbouring pair of columns inside the strip.
        var one = Rendering.RenderImage(tiles, ws, strip);
        double seam = MeanAbsColumnStep(one, one.Width - 1, 0);
        var interior = Enumerable.Range(0, one.Width - 1).Select(x => MeanAbsColumnStep(one, x, x + 1)).Order().ToList();
        double median = interior[interior.Count / 2], p95 = interior[(int)(interior.Count * 0.95)];
        output.WriteLine($"seam step {seam:0.0000}; interior steps median {median:0.0000}, 95th percentile {p95:0.0000}");
        Assert.True(seam <= p95, $"seam step {seam:0.0000} exceeds the interior's 95th percentile {p95:0.0000} (median {median:0.0000})");
    }

    [Fact]
    public void A_region_across_the_seam_equals_the_strip_wrapped()
    {
        var tiles = Pano();
        using var ws = tiles.Map(5);
        int h = 32;
        var strip = Rendering.RenderImage(tiles, ws, CanvasView.Panorama(h, 6));
        // The last sixth of the turn and the first sixth, side by side: x from 5/6 to 7/6 of the turn.
        var across = Rendering.RenderImage(tiles, ws, CanvasView.Region(64, h, 5, 0, 7, 1));
        double worst = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < 64; x++)
                for (int c = 0; c < 3; c++) worst = Math.Max(worst, Math.Abs(across[y, x, c] - strip[y, (x + 160) % strip.Width, c]));
        Assert.True(worst < 1e-3, $"the region across the seam differs from the wrapped strip by up to {worst}");
    }
}
