using AnyRes.Ops;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AnyRes.Tests.Ops;

/// <summary>The channels-last inference convolution against libtorch's float64 conv2d on planar tensors.</summary>
public class ChannelsLastConv2dTests
{
    public static TheoryData<int, int, int, int, int, int, int, int, int> Cases => new()
    {
        // batch, in, out, h, w, kernel, stride, padBegin, padEnd
        { 2, 3, 8, 23, 21, 7, 2, 3, 3 },      // ResNet stem, a group of whole samples per GEMM
        { 3, 5, 6, 9, 11, 3, 1, 1, 1 },
        { 2, 4, 5, 9, 10, 1, 2, 0, 0 },       // downsampling shortcut
        { 2, 6, 4, 8, 8, 1, 1, 0, 0 },        // pointwise: no columns
        { 2, 5, 4, 9, 9, 3, 2, 1, 0 },        // ONNX begin/end padding
        { 1, 64, 16, 150, 130, 3, 1, 1, 1 },  // bands of one sample's rows
        { 2, 64, 8, 121, 97, 3, 2, 0, 1 },    // strided bands, asymmetric padding
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesFloat64Convolution(int n, int c, int o, int h, int w, int k, int stride, int padBegin, int padEnd)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        manual_seed(n * 1000 + c * 10 + k);
        var x = randn(n, c, h, w);
        var weight = randn(o, c, k, k) / Math.Sqrt(c * k * k);
        var bias = randn(o);
        var expected = F.conv2d(F.pad(x.to(float64), [padBegin, padEnd, padBegin, padEnd]), weight.to(float64), bias.to(float64), strides: [stride, stride]);
        var residual = randn_like(expected);

        var channelsLast = x.permute(0, 2, 3, 1).contiguous();
        var taps = ChannelsLastConv2d.TapMatrix(weight);
        var y = ChannelsLastConv2d.Apply(channelsLast, taps, k, k, bias, stride, padBegin, padEnd);
        Close.Assert(y.permute(0, 3, 1, 2), expected, 1e-4, 1e-4, "output");

        var fused = ChannelsLastConv2d.Apply(channelsLast, taps, k, k, bias, stride, padBegin, padEnd,
            residual: residual.to(float32).permute(0, 2, 3, 1).contiguous(), relu: true);
        Close.Assert(fused.permute(0, 3, 1, 2), (expected + residual).relu(), 1e-4, 1e-4, "output + residual, ReLU");
    }

    [Fact]
    public void RefusesAutograd()
    {
        using var scope = NewDisposeScope();
        var x = randn(1, 5, 5, 2, requires_grad: true);
        Assert.Throws<InvalidOperationException>(() => ChannelsLastConv2d.Apply(x, randn(18, 3), 3, 3, null, 1, 1, 1));
    }
}
