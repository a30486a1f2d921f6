using AnyRes.Data;
using AnyRes.Networks;
using AnyRes.Synthesis;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace AnyRes.Tests.Synthesis;

/// <summary>The renderer on a real (random-init, tiny) StyleGAN3-T generator.</summary>
public class GeneratorRenderTests(ITestOutputHelper output)
{
    const int Resolution = 32;

    static GeneratorTiles Tiny()
    {
        torch.manual_seed(5);
        return new GeneratorTiles(new AnyRes.Networks.Generator(GeneratorOptions.Tiny(Resolution)));
    }

    static float[] Hwc(Tensor image) => image.permute(1, 2, 0).contiguous().data<float>().ToArray();

    [Fact]
    public void CanvasOfOneTileIsExactlyTheSingleForward()
    {
        var tiles = Tiny();
        int p = tiles.TileSize;
        using var ws = tiles.Map(7, truncationPsi: 0.7, truncationCutoff: 2);
        var rendered = Rendering.RenderImage(tiles, ws, CanvasView.FullFrame(p, p));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var single = tiles.G.Synthesis(ws, PatchTransform.Stack(new[] { PatchTransform.Identity }));
        Assert.Equal(Hwc(single[0]), rendered.Pixels);
        var implicitIdentity = tiles.G.Synthesis(ws);   // transform = null: the model's own identity buffer
        Assert.True((implicitIdentity - single).abs().max().item<float>() < 1e-5f);
    }

    /// <summary>
    /// Overlapping tiles of one canvas see the same canvas pixels through transforms that differ by a whole-pixel shift, so their
    /// disagreement is the model's translation-equivariance error for that shift — the seam residual. A tile misplaced by half a
    /// pixel shows what a tiling error would look like; the real residual must stay far below it.
    /// </summary>
    [Fact]
    public void OverlappingTilesAgreeToTheTranslationErrorOfTheModel()
    {
        var tiles = Tiny();
        int p = tiles.TileSize, shift = p / 2, n = p + shift;
        using var ws = tiles.Map(11);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var view = CanvasView.FullFrame(n, n);
        var transforms = PatchTransform.Stack(new[]
        {
            view.TileTransform(0, 0, p), view.TileTransform(shift, 0, p),
            PatchTransform.FromCrop(shift + 0.5, 0, p, n),   // deliberately off the pixel lattice
        });
        var images = tiles.Synthesize(ws.expand(3, -1, -1), transforms);
        var left = images[0, .., .., shift..];
        double Rms(Tensor a, Tensor b) => (a - b).square().mean().sqrt().item<float>();
        double seam = Rms(left, images[1, .., .., ..(p - shift)]);
        double seamMax = (left - images[1, .., .., ..(p - shift)]).abs().max().item<float>();
        double misaligned = Rms(left, images[2, .., .., ..(p - shift)]);
        double signal = left.std().item<float>();
        output.WriteLine($"tiny SG3-T p={p}, shift {shift} px: seam RMS {seam:E3}, max {seamMax:E3}; half-pixel-misplaced tile RMS {misaligned:E3}; image std {signal:E3}");
        Assert.True(seam < 0.25 * misaligned, $"seam RMS {seam} vs misaligned {misaligned}");
    }

    [Fact]
    public void RegionAndNonSquareRendersMatchTheSquareRenderToTheSeamLevel()
    {
        var tiles = Tiny();
        int p = tiles.TileSize, n = 3 * p;
        using var ws = tiles.Map(3);
        var square = Rendering.RenderImage(tiles, ws, CanvasView.FullFrame(n, n));
        var wide = Rendering.RenderImage(tiles, ws, CanvasView.FullFrame(n, p + 8));   // rows (n − p − 8)/2 … of the square
        var region = Rendering.RenderImage(tiles, ws, CanvasView.Region(p + 5, p + 5, 7.0 / n, 9.0 / n, (12.0 + p) / n, (14.0 + p) / n));
        double Diff(ImageBuffer crop, int x0, int y0)
        {
            double sum = 0;
            for (int y = 0; y < crop.Height; y++)
                for (int x = 0; x < crop.Width; x++)
                    for (int c = 0; c < crop.Channels; c++) sum += Math.Pow(crop[y, x, c] - square[y + y0, x + x0, c], 2);
            return Math.Sqrt(sum / crop.Pixels.Length);
        }
        double wideRms = Diff(wide, 0, (n - p - 8) / 2), regionRms = Diff(region, 7, 9);
        output.WriteLine($"RMS vs the square render: non-square {wideRms:E3}, region {regionRms:E3}");
        Assert.True(wideRms < 0.02 && regionRms < 0.02);
    }
}
