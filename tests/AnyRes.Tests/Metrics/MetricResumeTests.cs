using AnyRes.Data;
using AnyRes.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Tests.Metrics;

/// <summary>An interrupted metric pass resumes from its saved partial features and ends with exactly the uninterrupted result.</summary>
public class MetricResumeTests
{
    /// <summary>Images are a fixed function of the latent and the transform.</summary>
    sealed class LatentImages : IMetricGenerator
    {
        public int Resolution => 32;
        public int ZDim => 4;
        public Device Device => CPU;
        public string Identity => "latent-images";
        public Tensor Patches(Tensor z, Tensor transforms, Tensor? classes = null)
        {
            var ramp = linspace(-1, 1, Resolution).view(1, 1, 1, -1);
            var tone = (z[.., ..3] + transforms[.., 0, 0].unsqueeze(1)).view(-1, 3, 1, 1);
            return (tone + ramp * z[.., 3].view(-1, 1, 1, 1)).tanh().expand(-1, 3, Resolution, Resolution).contiguous();
        }
        public Tensor Full(Tensor z, int size, Tensor? classes = null) => throw new NotSupportedException();
        public Tensor Upsampled(Tensor z, int size, Tensor? classes = null) => throw new NotSupportedException();
    }

    /// <summary>Channel means and deviations; throws on the given call to simulate a crash.</summary>
    sealed class Detector(int failOnCall) : IFeatureExtractor
    {
        public int Calls { get; private set; }
        public string Name => "test";
        public int NativeSize => 20;
        public Device Device => CPU;
        public Tensor Extract(Tensor images255)
        {
            if (++Calls == failOnCall) throw new OperationCanceledException("interrupted");
            return cat([images255.mean([2, 3]), images255.std([2, 3])], 1);
        }
    }

    static string TempDir(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"anyres-resume-{name}-{Environment.ProcessId}");
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
        return dir;
    }

    [Fact]
    public void InterruptedRealAndFakePassesResumeToTheSameResult()
    {
        var data = TempDir("data");
        SynthImages.WriteSet(data, 3, 48, 96, seed: 11);
        using var source = ImageSource.Open(data, useCache: false);
        var spec = MetricSpec.Parse("fd-subpatch32-min32max0");
        var generator = new LatentImages();
        MetricOptions Options(string cache) => new() { Num = 10, Batch = 4, Seed = 5, CacheDir = cache, CheckpointSeconds = 0 };

        // Uninterrupted: 3 batches of reals, 3 of fakes.
        var straight = new MetricRunner(new Detector(0), Options(TempDir("straight")), null, source);
        using var reals0 = straight.RealStatistics(spec, 32, out var transforms0, out var offsets0);
        using var fakes0 = straight.FakeStatistics(spec, generator, reals0.Count, transforms0, offsets0);

        var cache = TempDir("resumed");
        // Reals stop in their third batch: two are saved.
        Assert.Throws<OperationCanceledException>(() => new MetricRunner(new Detector(3), Options(cache), null, source).RealStatistics(spec, 32, out _, out _));
        Assert.Single(Directory.GetFiles(cache, "partial-*"));
        var detector = new Detector(0);
        var resumed = new MetricRunner(detector, Options(cache), null, source);
        using var reals1 = resumed.RealStatistics(spec, 32, out var transforms1, out var offsets1);
        Assert.Equal(1, detector.Calls);
        Assert.Empty(Directory.GetFiles(cache, "partial-*"));

        // Fakes stop in their second batch: one is saved.
        Assert.Throws<OperationCanceledException>(() => new MetricRunner(new Detector(2), Options(cache), null, source).FakeStatistics(spec, generator, reals1.Count, transforms1, offsets1));
        var fakeDetector = new Detector(0);
        using var fakes1 = new MetricRunner(fakeDetector, Options(cache), null, source).FakeStatistics(spec, generator, reals1.Count, transforms1, offsets1);
        Assert.Equal(2, fakeDetector.Calls);

        Close.Assert(transforms1!, transforms0!, 0, 0, "transforms");
        Close.Assert(offsets1!, offsets0!, 0, 0, "offsets");
        using (var a = reals1.Features()) using (var b = reals0.Features()) Close.Assert(a, b, 0, 0, "real features");
        using (var a = fakes1.Features()) using (var b = fakes0.Features()) Close.Assert(a, b, 0, 0, "fake features");
        var (m0, s0) = fakes0.MeanCov();
        var (m1, s1) = fakes1.MeanCov();
        Close.Assert(m1, m0, 1e-12, 1e-12, "fake mean");
        Close.Assert(s1, s0, 1e-12, 1e-12, "fake covariance");
    }
}
