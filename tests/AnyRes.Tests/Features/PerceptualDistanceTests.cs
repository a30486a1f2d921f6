using AnyRes.Features;
using AnyRes.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Tests.Features;

public class PerceptualDistanceTests
{
    static readonly Lazy<ResNet18Features> Net = new(() => ResNet18Features.LoadDefault(CPU));

    /// <summary>
    /// LPIPS-AlexNet with random weights against an independent PyTorch computation written from the lpips 0.1 semantics
    /// (tests/extra-fixtures/make_lpips_alex_random.py): the spatial map, the per-sample distance and its gradient.
    /// </summary>
    [Fact]
    public void LpipsAlexMatchesIndependentComputation()
    {
        using var f = Fixture.LoadExtra("lpips_alex_random.safetensors");
        using var scope = NewDisposeScope();
        var lpips = LpipsAlex.FromState(f.State(), CPU, f.Name);
        var x = f["in.x"].clone().requires_grad_(true);
        var map = lpips.Map(x, f["in.y"]);
        Close.Assert(map, f["out.map"], 1e-5, 1e-4, "lpips map");
        var d = lpips.Distance(x, f["in.y"]);
        Close.Assert(d, f["out.distance"], 1e-5, 1e-4, "lpips distance");
        d.sum().backward();
        Close.Assert(x.grad!, f["out.grad_x"], 1e-6, 1e-3, "lpips gradient");
    }

    [Fact]
    public void LpipsRejectsForeignWeightsWithOneLine()
    {
        using var f = Fixture.LoadExtra("lpips_alex_random.safetensors");
        var state = f.State();
        state["features.0.weight"] = state["net.slice1.0.weight"];
        state.Remove("net.slice1.0.weight");
        var e = Assert.Throws<AnyResException>(() => LpipsAlex.FromState(state, CPU, "w.safetensors"));
        Assert.Contains("missing: net.slice1.0.weight", e.Message);
        Assert.Contains("unexpected: features.0.weight", e.Message);
    }

    [Fact]
    public void ResNetDistanceIsZeroForEqualImagesAndDifferentiable()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var p = new ResNetPerceptual(Net.Value);
        var y = rand(2, 3, 64, 64) * 2 - 1;
        var same = p.Distance(y, y);
        Assert.True(same.abs().max().item<float>() < 1e-6);
        var x = (y + randn(2, 3, 64, 64) * 0.3).clamp(-1, 1).requires_grad_(true);
        var d = p.Distance(x, y);
        Assert.Equal(new long[] { 2 }, d.shape);
        Assert.All(d.data<float>().ToArray(), v => Assert.InRange(v, 1e-4f, 4f));
        d.sum().backward();
        Assert.True(x.grad!.abs().sum().item<float>() > 0);
    }

    /// <summary>The ResNet map recomputed by hand from the stage activations: per-channel unit vectors, squared distance
    /// summed over channels, bilinear resize, mean over the four stages.</summary>
    [Fact]
    public void ResNetMapFollowsItsDefinition()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        manual_seed(2);
        var net = Net.Value;
        var x = rand(1, 3, 64, 64) * 2 - 1;
        var y = rand(1, 3, 64, 64) * 2 - 1;
        var fx = net.forward(net.Preprocess((x + 1) * 127.5, channelMean: true));
        var fy = net.forward(net.Preprocess((y + 1) * 127.5, channelMean: true));
        var expected = zeros(1, 1, 64, 64);
        for (int k = 0; k < 4; k++)
        {
            var a = fx[k] / (fx[k].square().sum(1, keepdim: true).sqrt() + 1e-10);
            var b = fy[k] / (fy[k].square().sum(1, keepdim: true).sqrt() + 1e-10);
            var d = (a - b).square().sum(1, keepdim: true);
            expected += nn.functional.interpolate(d, [64, 64], mode: InterpolationMode.Bilinear, align_corners: false) / 4;
        }
        Close.Assert(new ResNetPerceptual(net).Map(x, y), expected, 1e-5, 1e-4, "resnet perceptual map");
    }
}
