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
    /// Overlapping tiles of one canvas see the same canvas pixels through transforms that differ by a whole-pixel shift d, so their
    /// disagreement is the model's translation-equivariance error for d — the seam residual, reported as SG3's EQ-T PSNR
    /// (10·log10(4/MSE)). A tile misplaced by one pixel shows what a tiling bug would look like; residuals must stay far below it.
    /// </summary>
    static (double[] Seams, double Misplaced, double Signal) SeamResiduals(GeneratorTiles tiles, Tensor ws, int[] shifts)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        int p = tiles.TileSize, n = 2 * p;
        var view = CanvasView.FullFrame(n, n);
        var transforms = new List<PatchTransform> { view.TileTransform(0, 0, p), PatchTransform.FromCrop(p / 2 + 1, 0, p, n) };
        transforms.AddRange(shifts.Select(d => view.TileTransform(d, 0, p)));
        var images = tiles.Synthesize(ws.expand(transforms.Count, -1, -1), PatchTransform.Stack(transforms));
        double Rms(int b, int d) => (images[0, .., .., d..] - images[b, .., .., ..(p - d)]).square().mean().sqrt().item<float>();
        return (shifts.Select((d, i) => Rms(2 + i, d)).ToArray(), Rms(1, p / 2), images[0].std().item<float>());
    }

    static readonly int[] Shifts = { 1, 3, 7, 12, 16, 20, 27 };

    [Fact]
    public void OverlappingTilesAgreeToTheTranslationErrorOfTheModel()
    {
        var tiles = Tiny();
        using var ws = tiles.Map(11);
        var (seams, misplaced, signal) = SeamResiduals(tiles, ws, Shifts);
        foreach (var (d, rms) in Shifts.Zip(seams))
            output.WriteLine($"tiny SG3-T p={tiles.TileSize}, shift {d,2} px: seam RMS {rms:E3} (EQ-T PSNR {10 * Math.Log10(4 / (rms * rms)):F1} dB)");
        output.WriteLine($"one-pixel-misplaced tile RMS {misplaced:E3}; image std {signal:E3}");
        Assert.True(seams.Average() < 0.3 * misplaced, $"mean seam RMS {seams.Average()} vs misplaced {misplaced}");
    }

    [Fact]
    public void RegionAndNonSquareRendersMatchTheSquareRenderToTheSeamLevel()
    {
        var tiles = Tiny();
        int p = tiles.TileSize, n = 2 * p;
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
        double worstSeam = SeamResiduals(tiles, ws, Shifts).Seams.Max();
        output.WriteLine($"RMS vs the square render: non-square {wideRms:E3}, region {regionRms:E3}; worst seam RMS of the model {worstSeam:E3}");
        Assert.True(wideRms <= 1.5 * worstSeam && regionRms <= 1.5 * worstSeam);
    }
}
