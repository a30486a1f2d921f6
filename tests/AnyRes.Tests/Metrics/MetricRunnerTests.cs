using AnyRes.Core;
using AnyRes.Data;
using AnyRes.Metrics;
using AnyRes.Networks;
using AnyRes.Synthesis;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Tests.Metrics;

public class MetricRunnerTests
{
    /// <summary>
    /// End to end on an untrained tiny generator and synthetic photos: full-image (renderer), patch and KID metrics with
    /// the shipped ResNet18, the cached real statistics reused on a second run, and the upsampled baseline.
    /// </summary>
    [Fact]
    public void TinyGeneratorMetricsAreFiniteAndRealsAreCached()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"anyres-metrics-{Environment.ProcessId}");
        var cache = Path.Combine(dir, "cache");
        SynthImages.WriteSet(Path.Combine(dir, "hr"), 4, 80, 128, seed: 3);
        try
        {
            using var source = ImageSource.Open(Path.Combine(dir, "hr"), useCache: false);
            manual_seed(0);
            var g = new GeneratorMetricSource(new GeneratorTiles(new AnyRes.Networks.Generator(GeneratorOptions.Tiny(32))));
            var detector = FeatureExtractors.Create("resnet18", null, CPU);
            var options = new MetricOptions { Num = 4, Batch = 4, CacheDir = cache };
            var specs = new[] { "fd-full64", "fd-patch32-min32max0", "kid-patch32-min32max0" }.Select(MetricSpec.Parse).ToList();
            var results = new MetricRunner(detector, options, source, source).Run(g, specs);
            Assert.Equal(new[] { "fd_resnet18_full64", "fd_resnet18_patch32-min32max0", "kid_resnet18_patch32-min32max0" }, results.Keys);
            Assert.All(results.Values, v => Assert.True(double.IsFinite(v)));
            Assert.True(results["fd_resnet18_full64"] > 0);
            Assert.Equal(2, Directory.GetFiles(cache).Length);
            var again = new MetricRunner(detector, options, source, source).Run(g, specs);
            Assert.Equal(results, again);   // cached reals + seeded latents: identical

            // The upsampled baseline: at R = p the single identity tile is the band-limited identity warp of G(z).
            var tiles = new GeneratorTiles(new AnyRes.Networks.Generator(GeneratorOptions.Tiny(32)));
            var up = new GeneratorMetricSource(tiles) { AsUpsampledBaseline = true, Warp = UpsampledTiles.BandLimitedWarp };
            using var noGrad = no_grad();
            var z = randn(2, up.ZDim);
            var direct = UpsampledTiles.BandLimitedWarp(new GeneratorMetricSource(tiles).Patches(z, eye(3).expand(2, 3, 3)), eye(3).expand(2, 3, 3));
            Close.Assert(up.Upsampled(z, 32), direct, 1e-5, 1e-4, "up32 = warp(G(z), I)");
            var up64 = up.Upsampled(z, 64);
            Assert.Equal(new long[] { 2, 3, 64, 64 }, up64.shape);
            Assert.True(up64.isfinite().all().item<bool>());
        }
        finally { Directory.Delete(dir, true); }
    }
}
