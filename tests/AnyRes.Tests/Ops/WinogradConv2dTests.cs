using AnyRes.Ops;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AnyRes.Tests.Ops;

/// <summary>The Winograd F(4×4, 3×3) convolution against libtorch's float64 conv2d on planar tensors.</summary>
public class WinogradConv2dTests
{
    public static TheoryData<int, int, int, int, int, int, int> Cases => new()
    {
        // batch, in, out, h, w, padBegin, padEnd
        { 2, 8, 5, 8, 8, 1, 1 },       // whole tiles
        { 3, 6, 7, 7, 7, 1, 1 },       // ResNet18's last stage: 7×7 in two tiles per side, cropped
        { 2, 5, 4, 11, 9, 0, 1 },      // ONNX begin/end padding, partial tiles
        { 1, 4, 3, 3, 5, 0, 0 },       // a single row of outputs
        { 3, 256, 4, 62, 62, 1, 1 },   // one sample per chunk, three chunks
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesFloat64Convolution(int n, int c, int o, int h, int w, int padBegin, int padEnd)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        manual_seed(n * 1000 + c * 10 + h);
        var x = randn(n, c, h, w);
        var weight = randn(o, c, 3, 3) / Math.Sqrt(c * 9);
        var bias = randn(o);
        var expected = F.conv2d(F.pad(x.to(float64), [padBegin, padEnd, padBegin, padEnd]), weight.to(float64), bias.to(float64));
        var residual = randn_like(expected);

        var channelsLast = x.permute(0, 2, 3, 1).contiguous();
        var filter = WinogradConv2d.FilterMatrix(weight);
        var y = WinogradConv2d.Apply(channelsLast, filter, bias, padBegin, padEnd);
        Assert.Equal(expected.permute(0, 2, 3, 1).shape, y.shape);
        Close.Assert(y.permute(0, 3, 1, 2), expected, 1e-4, 1e-4, "output");

        var fused = WinogradConv2d.Apply(channelsLast, filter, bias, padBegin, padEnd,
            residual: residual.to(float32).permute(0, 2, 3, 1).contiguous(), relu: true);
        Close.Assert(fused.permute(0, 3, 1, 2), (expected + residual).relu(), 1e-4, 1e-4, "output + residual, ReLU");
    }

    [Fact]
    public void SuitsOnlyWideStrideOne3x3()
    {
        Assert.True(WinogradConv2d.Suits(128, 3, 3, 1));
        Assert.False(WinogradConv2d.Suits(64, 3, 3, 1));
        Assert.False(WinogradConv2d.Suits(256, 3, 3, 2));
        Assert.False(WinogradConv2d.Suits(256, 1, 1, 1));
    }

    [Fact]
    public void RefusesAutograd()
    {
        using var scope = NewDisposeScope();
        var x = randn(1, 5, 5, 2, requires_grad: true);
        Assert.Throws<InvalidOperationException>(() => WinogradConv2d.Apply(x, randn(36, 2, 3), null, 1, 1));
    }
}
