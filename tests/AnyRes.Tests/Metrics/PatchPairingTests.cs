using AnyRes.Data;
using AnyRes.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Tests.Metrics;

public class PatchPairingTests
{
    sealed class RecordingGenerator : IMetricGenerator
    {
        public List<Tensor> Transforms { get; } = [];
        public List<Tensor> Outputs { get; } = [];
        public int Resolution => 32;
        public int ZDim => 4;
        public Device Device => CPU;
        public string Identity => "recording";

        public Tensor Patches(Tensor z, Tensor transforms, Tensor? classes = null)
        {
            Transforms.Add(transforms.clone().DetachFromDisposeScope());
            var images = rand(z.shape[0], 3, Resolution, Resolution) * 2 - 1;
            Outputs.Add(FeatureExtractors.Quantize(images).DetachFromDisposeScope());
            return images;
        }

        public Tensor Full(Tensor z, int size, Tensor? classes = null) => throw new NotSupportedException();
        public Tensor Upsampled(Tensor z, int size, Tensor? classes = null) => throw new NotSupportedException();
    }

    /// <summary>Sees every image it is given; features = per-channel means (cheap).</summary>
    sealed class RecordingDetector(int nativeSize) : IFeatureExtractor
    {
        public List<Tensor> Seen { get; } = [];
        public string Name => "test";
        public int NativeSize => nativeSize;
        public Device Device => CPU;
        public Tensor Extract(Tensor images255)
        {
            Seen.Add(images255.clone().DetachFromDisposeScope());
            return cat([images255.mean([2, 3]), images255.std([2, 3])], 1);
        }
    }

    static ImageSource SynthSource(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"anyres-pairing-{name}-{Environment.ProcessId}");
        SynthImages.WriteSet(dir, 3, 48, 96, seed: 11);
        return ImageSource.Open(dir, useCache: false);
    }

    [Fact]
    public void PatchFakesUseTheRealPatchTransformsInOrder()
    {
        using var source = SynthSource("patch");
        var detector = new RecordingDetector(24);
        var runner = new MetricRunner(detector, new MetricOptions { Num = 10, Batch = 4, Seed = 3 }, null, source);
        var spec = MetricSpec.Parse("fd-patch32-min32max0");
        using var reals = runner.RealStatistics(spec, 32, out var transforms, out var offsets);
        Assert.Null(offsets);
        Assert.Equal(new long[] { 10, 3, 3 }, transforms!.shape);
        // Virtual sizes vary (min32max0: 32 … native), so a wrong pairing would show.
        Assert.True(transforms[.., 0, 0].unique().output.shape[0] > 3);
        var g = new RecordingGenerator();
        using var fakes = runner.FakeStatistics(spec, g, reals.Count, transforms, offsets);
        Assert.Equal(10, fakes.Count);
        Close.Assert(cat(g.Transforms), transforms, 0, 0, "fake i rendered with real i's transform");
        // Same seed and options → same reals (the cache and resumed runs rely on it).
        using var again = runner.RealStatistics(spec, 32, out var transforms2, out _);
        Close.Assert(transforms2!, transforms, 0, 0, "deterministic real patches");
    }

    [Fact]
    public void SubpatchFakesAreCutWhereTheRealWasCut()
    {
        using var source = SynthSource("subpatch");
        var detector = new RecordingDetector(20);
        var runner = new MetricRunner(detector, new MetricOptions { Num = 6, Batch = 4, Seed = 5 }, null, source);
        var spec = MetricSpec.Parse("fd-subpatch32-min32max0");
        using var reals = runner.RealStatistics(spec, 32, out var transforms, out var offsets);
        Assert.Equal(new long[] { 6, 2 }, offsets!.shape);
        Assert.All(detector.Seen, s => Assert.Equal(20, s.shape[2]));
        detector.Seen.Clear();
        var g = new RecordingGenerator();
        using var fakes = runner.FakeStatistics(spec, g, reals.Count, transforms, offsets);
        var rendered = cat(g.Outputs);
        var seen = cat(detector.Seen);
        for (int i = 0; i < 6; i++)
        {
            long y = offsets[i, 0].item<long>(), x = offsets[i, 1].item<long>();
            Close.Assert(seen[i], rendered[i, .., (int)y..(int)(y + 20), (int)x..(int)(x + 20)], 0, 0, $"fake {i} crop");
        }
        Close.Assert(cat(g.Transforms), transforms!, 0, 0, "transforms");
    }
}
