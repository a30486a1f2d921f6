using AnyRes.Features;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Tests.Features;

public class ResNet18FeaturesTests
{
    const double Atol = 1e-4, Rtol = 1e-4;   // fixtures README, "ResNet18 feature network"

    static readonly Lazy<ResNet18Features> Net = new(() => ResNet18Features.LoadDefault(CPU));

    /// <summary>Without autograd the CPU forward runs channels last; with it (the perceptual loss), planar.</summary>
    [Theory, Trait("Category", "Parity")]
    [InlineData(false)]
    [InlineData(true)]
    public void FeaturesWithMeanImageMatchOnnxRuntime(bool autograd)
    {
        using var f = Fixture.Load("resnet18_features.safetensors");
        using var scope = NewDisposeScope();
        using var _ = autograd ? enable_grad() : no_grad();
        var net = Net.Value;
        var stages = net.forward(net.Preprocess(f["in.images"]));
        // Where a set keeps the stages' activations (aux.stageK: the leading images and channels, act[0:1, 0:16] in the public
        // set; its shape says how many), they are compared first, so a failure names the first stage that differs.
        for (int k = 1; k <= 4; k++)
            if (f.Aux($"stage{k}") is { } expected)
                Close.Assert(stages[k - 1][..(int)expected.shape[0], ..(int)expected.shape[1]], expected, Atol, Rtol, $"stage{k}");
        Close.Assert(ResNet18Features.Pool(stages[3]), f["out.features"], Atol, Rtol, "features");
    }

    [Fact, Trait("Category", "Parity")]
    public void FeaturesWithChannelMeanMatchOnnxRuntime()
    {
        using var f = Fixture.Load("resnet18_features.safetensors");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Close.Assert(Net.Value.Features(f["in.images"], channelMean: true), f["out.features_channel_mean"], Atol, Rtol, "features (channel mean)");
    }

    [Fact]
    public void GraphStructureIsReadFromTheOnnxFile()
    {
        Assert.Equal(new[] { 2, 2, 2, 3 }, Net.Value.Blocks);
        Assert.All(Net.Value.parameters(), p => Assert.False(p.requires_grad));
    }

    [Fact]
    public void OddSizesUseTheOnnxAsymmetricPadding()
    {
        // ONNX pads [1,1,0,0] on the stride-2 convolutions: for an odd input the symmetric torch padding would give one more
        // output row (99 → 50 → 25 instead of 49 → 24); the module pads explicitly and keeps the ONNX sizes.
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var stages = Net.Value.forward(randn(1, 3, 99, 99) * 50);
        Assert.Equal(new long[] { 1, 64, 24, 24 }, stages[0].shape);
        Assert.Equal(new long[] { 1, 512, 3, 3 }, stages[3].shape);
    }
}
