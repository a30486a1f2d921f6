using AnyRes.Data;
using AnyRes.Synthesis;
using TorchSharp;

namespace AnyRes.Tests.Data;

public class PatchSamplerTests
{
    [Fact]
    public void RecordedDrawsMapToTheReferenceSizesLimitsAndTransforms()
    {
        using var f = Fixture.Load("patch_sampler.safetensors");
        var sampler = f.Args["PatchSampler"]!;
        int p = (int)sampler["patch_size"]!, side = (int)f.Args["image_size"]!;
        double scaleMax = (double?)sampler["max_scale"] ?? 1.0;
        double? scaleMin = (double?)sampler["min_scale"];
        var (lo, hi) = PatchSampler.SizeRange(p, side, scaleMax, scaleMin);
        var samples = f.Meta["extra"]!["samples"]!.AsArray();
        Assert.NotEmpty(samples);
        foreach (var s in samples)
        {
            int i = (int)s!["index"]!, x = (int)s["x"]!, y = (int)s["y"]!, n = (int)s["new_size"]!;
            double r = (double)s["random_size"]!;
            Assert.InRange(r, lo, hi);
            Assert.Equal(p / (double)side, (double)s["min_scale_absolute"]!, 12);
            Assert.Equal(n, PatchSampler.RoundSize(r));
            var (rows, cols) = PatchSampler.Limits(n, x, y, p);
            var limits = s["limits"]!.AsArray();
            Assert.Equal((double)limits[0]![0]!, rows.Item1, 12);
            Assert.Equal((double)limits[0]![1]!, rows.Item2, 12);
            Assert.Equal((double)limits[1]![0]!, cols.Item1, 12);
            Assert.Equal((double)limits[1]![1]!, cols.Item2, 12);
            var t = PatchSampler.Transform(n, x, y, p);
            Close.Assert(PatchTransform.Stack([t]).squeeze(0), f[$"out.transform_{i}"], 1e-7, 0, $"transform {i}");
        }
    }

    [Fact]
    public void CropsMatchThePilResizedCrops()
    {
        using var f = Fixture.Load("patch_sampler.safetensors");
        int p = (int)f.Args["PatchSampler"]!["patch_size"]!;
        var hwc = f["in.image_hwc"];
        int side = (int)hwc.shape[0];
        var image = new RgbImage(side, side, hwc.to(torch.ScalarType.Byte).data<byte>().ToArray());
        foreach (var s in f.Meta["extra"]!["samples"]!.AsArray())
        {
            int i = (int)s!["index"]!, n = (int)s["new_size"]!;
            // The crops are debugging values (aux.*): a set without them has nothing to compare here.
            if (f.Aux($"crop_hwc_{i}") is not { } expected) continue;
            var crop = Lanczos.ResizeWindow(image, 0, 0, side, side, n, n, (int)s["x"]!, (int)s["y"]!, p, p);
            using var ours = torch.tensor(crop.Pixels.Select(b => (float)b).ToArray(), new long[] { p, p, 3 });
            // Same fixed-point algorithm as PIL: at most one grey level of rounding difference.
            Close.Assert(ours, expected, 1, 0, $"crop {i}");
        }
    }

    /// <summary>The renderer's tiling of an N×N canvas (TileGrid + CanvasView) is the reference's generate_full_from_patches.</summary>
    [Fact]
    public void RenderTilingMatchesTheReferenceFullFromPatches()
    {
        using var f = Fixture.Load("patch_sampler.safetensors");
        var cases = f.Args["full_from_patches"]!.AsArray();
        for (int j = 0; j < cases.Count; j++)
        {
            int n = (int)cases[j]![0]!, p = (int)cases[j]![1]!;
            var grid = new TileGrid(n, n, p);
            var view = CanvasView.FullFrame(n, n);
            var tiles = grid.Ys.SelectMany(y => grid.Xs.Select(x => (x, y))).ToList();   // raster order, as the reference
            var boxes = tiles.SelectMany(t => new float[] { t.y, t.y + p, t.x, t.x + p }).ToArray();
            Close.Assert(torch.tensor(boxes, new long[] { tiles.Count, 4 }), f[$"out.full_{j}_boxes"], 0, 0, $"boxes {j}");
            Close.Assert(PatchTransform.Stack(tiles.Select(t => view.TileTransform(t.x, t.y, p)).ToList()), f[$"out.full_{j}_transforms"], 1e-7, 0, $"transforms {j}");
        }
    }

    [Fact]
    public void VirtualSizeIsUniformBetweenTheBounds_KolmogorovSmirnov()
    {
        const int draws = 10_000, p = 64, w = 900, h = 700;
        const double scaleMax = 0.5;
        var sizes = new double[draws];
        for (int i = 0; i < draws; i++) sizes[i] = PatchSampler.Draw(new SampleRng(3, i, 0), w, h, p, scaleMax, null, true, false).RandomSize;
        Array.Sort(sizes);
        double lo = p / scaleMax, hi = Math.Min(w, h), d = 0;
        for (int i = 0; i < draws; i++)
        {
            double cdf = (sizes[i] - lo) / (hi - lo);
            d = Math.Max(d, Math.Max((i + 1.0) / draws - cdf, cdf - (double)i / draws));
        }
        // Critical value at α = 0.001: 1.95 / √n.
        Assert.True(d < 1.95 / Math.Sqrt(draws), $"KS statistic {d:g4} rejects U({lo}, {hi})");
        // And not uniform in log-scale: the KS distance to a log-uniform law must be large.
        double dLog = sizes.Select((s, i) => Math.Abs((i + 0.5) / draws - Math.Log(s / lo) / Math.Log(hi / lo))).Max();
        Assert.True(dLog > 0.05, $"indistinguishable from log-uniform (D = {dLog:g3})");
    }

    [Fact]
    public void ScaleMinCapsTheVirtualSize()
    {
        var (lo, hi) = PatchSampler.SizeRange(256, 4000, 0.5, 0.125);
        Assert.Equal(512, lo, 9);
        Assert.Equal(2048, hi, 9);
        for (int i = 0; i < 2000; i++)
            Assert.InRange(PatchSampler.Draw(new SampleRng(1, i, 0), 5000, 4000, 256, 0.5, 0.125, true, false).NewSize, 512, 2048);
    }

    [Fact]
    public void CropsAreAlwaysInsideTheImage()
    {
        var rng = new SampleRng(11, 0, 0);
        for (int i = 0; i < 20_000; i++)
        {
            int p = rng.Int(1, 300), w = rng.Int(p, 3000), h = rng.Int(p, 3000);
            double scaleMax = rng.Uniform((double)p / Math.Min(w, h), 1);
            var d = PatchSampler.Draw(new SampleRng(5, i, 0), w, h, p, scaleMax, null, rng.Int(0, 1) == 1, false);
            Assert.Equal(Math.Min(w, h), d.Side);
            Assert.InRange(d.CropX, 0, w - d.Side);
            Assert.InRange(d.CropY, 0, h - d.Side);
            Assert.InRange(d.NewSize, p, d.Side);
            Assert.InRange(d.X, 0, d.NewSize - p);
            Assert.InRange(d.Y, 0, d.NewSize - p);
            var t = PatchSampler.Transform(d.NewSize, d.X, d.Y, p);
            // The patch window in SG3 units stays inside [−0.5, 0.5].
            Assert.InRange(t.TranslateX - t.Scale / 2, -0.5 - 1e-12, 0.5);
            Assert.InRange(t.TranslateX + t.Scale / 2, -0.5, 0.5 + 1e-12);
        }
    }
}
