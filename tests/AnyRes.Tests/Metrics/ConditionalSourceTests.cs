using AnyRes.Data;
using AnyRes.Metrics;
using AnyRes.Networks;
using AnyRes.Synthesis;
using static TorchSharp.torch;
using Generator = AnyRes.Networks.Generator;

namespace AnyRes.Tests.Metrics;

/// <summary>A conditional network as a metric source: its fakes are the chosen class's, and the class is part of its identity.</summary>
public class ConditionalSourceTests
{
    [Fact]
    public void PatchesComeFromTheChosenClass()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        var g = new Generator(GeneratorOptions.Tiny(16) with { CDim = 3, TrainingMode = TrainingMode.Patch });
        var one = new GeneratorMetricSource(new GeneratorTiles(g, classIndex: 1));
        var two = new GeneratorMetricSource(new GeneratorTiles(g, classIndex: 2));
        using var noGrad = no_grad();
        var z = randn(2, g.ZDim);
        var t = PatchTransform.Stack(new[] { PatchTransform.FromCrop(0, 0, 16, 32), PatchTransform.FromCrop(16, 16, 16, 32) }, CPU);

        var c1 = nn.functional.one_hot(tensor(new long[] { 1, 1 }), 3).to(float32);
        var expected = g.Synthesis(g.Mapping(z, c1), t, c: c1);
        Close.Assert(one.Patches(z, t), expected, 0, 0, "class 1 patches");
        Assert.True((two.Patches(z, t) - expected).abs().max().item<float>() > 1e-3, "class 2 renders other images");
        Assert.NotEqual(one.Identity, two.Identity);
        Assert.Throws<AnyRes.Core.AnyResException>(() => new GeneratorTiles(g));
    }

    /// <summary>Classes given per call (metrics by class) label each row: row i equals the source fixed to class i's.</summary>
    [Fact]
    public void ClassesPerCallLabelEachRow()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var g = new Generator(GeneratorOptions.Tiny(16) with { CDim = 3, TrainingMode = TrainingMode.Patch });
        var perCall = new GeneratorMetricSource(new GeneratorTiles(g, classPerCall: true));
        using var noGrad = no_grad();
        var z = randn(2, g.ZDim);
        var t = PatchTransform.Stack(new[] { PatchTransform.FromCrop(0, 0, 16, 32), PatchTransform.FromCrop(16, 16, 16, 32) }, CPU);
        var mixed = perCall.Patches(z, t, tensor(new long[] { 2, 0 }));
        Close.Assert(mixed[0], new GeneratorMetricSource(new GeneratorTiles(g, classIndex: 2)).Patches(z, t)[0], 1e-6, 1e-5, "row 0 as class 2");
        Close.Assert(mixed[1], new GeneratorMetricSource(new GeneratorTiles(g, classIndex: 0)).Patches(z, t)[1], 1e-6, 1e-5, "row 1 as class 0");
        Assert.Throws<ArgumentException>(() => perCall.Patches(z, t));   // no class of its own
    }
}
