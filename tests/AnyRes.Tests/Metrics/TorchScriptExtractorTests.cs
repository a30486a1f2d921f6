using AnyRes.Core;
using AnyRes.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Tests.Metrics;

public class TorchScriptExtractorTests
{
    /// <summary>
    /// The --detector inception path (torch.jit load + forward(img, return_features=True)) with a tiny TorchScript module
    /// of the same signature (tests/fixtures/tools/make_tiny_torchscript.py): per-channel means and standard deviations / 255.
    /// </summary>
    [Fact]
    public void LoadsAndCallsATorchScriptDetector()
    {
        using var scope = NewDisposeScope();
        var detector = FeatureExtractors.Create("inception", Path.Combine(Fixture.ExtraFolder, "tiny_detector.pt"), CPU);
        Assert.Equal("inception", detector.Name);
        manual_seed(9);
        var images = (rand(3, 3, 40, 52) * 255).floor();
        var features = detector.Extract(images);
        var x = images / 255;
        var expected = cat([x.mean([2, 3]), x.std([2, 3], unbiased: false)], 1);
        Close.Assert(features, expected, 1e-6, 1e-5, "TorchScript features");
    }

    [Fact]
    public void ABadDetectorFileIsOneLine()
    {
        var path = Path.Combine(Path.GetTempPath(), $"anyres-not-torchscript-{Environment.ProcessId}.pt");
        File.WriteAllText(path, "not a model");
        try
        {
            var e = Assert.Throws<AnyResException>(() => FeatureExtractors.Create("inception", path, CPU));
            Assert.Contains(path, e.Message);
            Assert.DoesNotContain("\n", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void FakesAreQuantisedLikeTheReference()
    {
        using var scope = NewDisposeScope();
        var q = FeatureExtractors.Quantize(tensor(new float[] { -2, -1, 0, 0.999f, 1, 3 }));
        Assert.Equal(new float[] { 0, 0, 128, 255, 255, 255 }, q.data<float>().ToArray());
    }
}
