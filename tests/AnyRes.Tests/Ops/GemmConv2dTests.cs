using AnyRes.Ops;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AnyRes.Tests.Ops;

/// <summary>The GEMM convolution against libtorch's float64 conv2d (which does not go through oneDNN), values and gradients.</summary>
public class GemmConv2dTests
{
    public static TheoryData<int, int, int, int, int, int, int, int, int, int> Cases => new()
    {
        // batch, in, out, h, w, kh, kw, stride, padY, padX
        { 2, 3, 5, 9, 11, 3, 3, 1, 1, 1 },
        { 3, 4, 6, 7, 6, 3, 3, 1, 2, 2 },     // SG3 layer padding (k − 1)
        { 1, 2, 3, 8, 8, 1, 1, 1, 0, 0 },
        { 2, 3, 4, 10, 12, 2, 5, 1, 0, 2 },   // non-square kernel, per-axis padding
        { 2, 3, 8, 23, 21, 7, 7, 2, 3, 3 },   // ResNet stem
        { 2, 3, 4, 47, 45, 11, 11, 4, 2, 2 }, // AlexNet stem
        { 2, 4, 5, 9, 10, 1, 1, 2, 0, 0 },    // ResNet downsampling shortcut
        { 2, 5, 4, 9, 9, 3, 3, 2, 1, 1 },
        { 2, 64, 80, 140, 150, 3, 3, 1, 1, 1 }, // columns for a group of samples
        { 2, 256, 6, 9, 11, 3, 3, 1, 2, 2 },    // shifted GEMMs (many input channels)
        { 2, 256, 512, 40, 40, 3, 3, 1, 1, 1 }, // shifted GEMMs, several accumulator blocks
        { 1, 256, 4, 7, 8, 1, 3, 1, 0, 1 },     // shifted GEMMs, non-square kernel
        { 1, 64, 8, 300, 400, 3, 3, 2, 1, 1 },  // several column chunks
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesFloat64ConvolutionAndGradients(int n, int c, int o, int h, int w, int kh, int kw, int stride, int padY, int padX)
    {
        using var scope = NewDisposeScope();
        manual_seed(n * 1000 + c * 10 + kh);
        var x = randn(n, c, h, w);
        var weight = randn(o, c, kh, kw) / Math.Sqrt(c * kh * kw);
        var bias = randn(o);

        var x64 = x.to(float64).requires_grad_(true);
        var w64 = weight.to(float64).requires_grad_(true);
        var b64 = bias.to(float64).requires_grad_(true);
        var y64 = F.conv2d(x64, w64, b64, strides: [stride, stride], padding: [padY, padX]);
        var upstream = randn_like(y64);
        var g64 = autograd.grad([(y64 * upstream).sum()], [x64, w64, b64]);

        var xf = x.clone().requires_grad_(true);
        var wf = weight.clone().requires_grad_(true);
        var bf = bias.clone().requires_grad_(true);
        var y = GemmConv2d.Apply(xf, wf, bf, stride, padY, padX);
        Close.Assert(y, y64, 1e-4, 1e-4, "output");
        var g = autograd.grad([(y * upstream.to(float32)).sum()], [xf, wf, bf]);
        Close.Assert(g[0], g64[0], 1e-3, 1e-4, "input gradient");
        Close.Assert(g[1], g64[1], 1e-3, 1e-4, "weight gradient");
        Close.Assert(g[2], g64[2], 1e-3, 1e-4, "bias gradient");

        using (no_grad())
            Close.Assert(GemmConv2d.Apply(x, weight, bias, stride, padY, padX), y64, 1e-4, 1e-4, "output without autograd");
    }

    /// <summary>Per-sample input and output scales (folded into each sample's taps on the shifted path) vs scaling around a float64 conv.</summary>
    [Theory]
    [InlineData(3, 256, 7, 9, 10, 2, true, true)]     // shifted GEMMs, both scales (SG3 layer)
    [InlineData(2, 256, 5, 8, 8, 1, true, false)]     // shifted GEMMs, no demodulation (toRGB-like)
    [InlineData(3, 6, 5, 9, 11, 1, true, true)]       // gathered columns: the activations are scaled
    public void ModulatedMatchesScalingAroundAFloat64Convolution(int n, int c, int o, int h, int w, int pad, bool withIn, bool withOut)
    {
        using var scope = NewDisposeScope();
        manual_seed(n * 100 + c + o);
        var x = randn(n, c, h, w);
        var weight = randn(o, c, 3, 3) / Math.Sqrt(c * 9);
        var inScale = withIn ? randn(n, c) : null;
        var outScale = withOut ? randn(n, o) : null;
        Tensor? L(Tensor? t, bool dbl) => t is null ? null : (dbl ? t.to(float64) : t.clone()).requires_grad_(true);

        var (x64, w64, i64, o64) = (L(x, true)!, L(weight, true)!, L(inScale, true), L(outScale, true));
        var y64 = F.conv2d(i64 is null ? x64 : x64 * i64.view(n, c, 1, 1), w64, padding: [pad, pad]);
        if (o64 is not null) y64 = y64 * o64.view(n, o, 1, 1);
        var upstream = randn_like(y64);
        var leaves64 = new[] { x64, w64, i64, o64 }.Where(t => t is not null).Select(t => t!).ToArray();
        var g64 = autograd.grad([(y64 * upstream).sum()], leaves64);

        var (xf, wf, iff, of) = (L(x, false)!, L(weight, false)!, L(inScale, false), L(outScale, false));
        var y = GemmConv2d.Modulated(xf, wf, iff, of, pad, pad);
        Close.Assert(y, y64, 1e-4, 1e-4, "output");
        var leaves = new[] { xf, wf, iff, of }.Where(t => t is not null).Select(t => t!).ToArray();
        var g = autograd.grad([(y * upstream.to(float32)).sum()], leaves);
        for (int i = 0; i < g.Count; i++) Close.Assert(g[i], g64[i], 1e-3, 1e-4, $"gradient {i}");
        using (no_grad())
            Close.Assert(GemmConv2d.Modulated(x, weight, inScale, outScale, pad, pad), y64, 1e-4, 1e-4, "output without autograd");
    }

    /// <summary>Only the scales need gradients (frozen input and weight): the op must still record, on both paths.</summary>
    [Theory]
    [InlineData(256)]   // shifted GEMMs
    [InlineData(6)]     // gathered columns
    public void GradientsReachScalesWhenOnlyTheyRequireThem(int c)
    {
        using var scope = NewDisposeScope();
        manual_seed(c);
        var x = randn(2, c, 7, 8);
        var weight = randn(5, c, 3, 3) / Math.Sqrt(c * 9);
        var inScale = randn(2, c).requires_grad_(true);
        var outScale = randn(2, 5).requires_grad_(true);
        var upstream = randn(2, 5, 7, 8);
        var g = autograd.grad([(GemmConv2d.Modulated(x, weight, inScale, outScale, 1, 1) * upstream).sum()], [inScale, outScale]);

        var i64 = inScale.detach().to(float64).requires_grad_(true);
        var o64 = outScale.detach().to(float64).requires_grad_(true);
        var y64 = F.conv2d(x.to(float64) * i64.view(2, c, 1, 1), weight.to(float64), padding: [1, 1]) * o64.view(2, 5, 1, 1);
        var g64 = autograd.grad([(y64 * upstream.to(float64)).sum()], [i64, o64]);
        Close.Assert(g[0], g64[0], 1e-3, 1e-4, "input scale gradient");
        Close.Assert(g[1], g64[1], 1e-3, 1e-4, "output scale gradient");
    }

    [Fact]
    public void SecondOrderGradientMatchesFloat64()
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        var x = randn(2, 3, 8, 8);
        var weight = randn(4, 3, 3, 3) / 5;
        Tensor R1(Tensor xi, Tensor wi, Func<Tensor, Tensor, Tensor> conv)
        {
            var y = conv(xi, wi).square().sum();
            var gx = autograd.grad([y], [xi], retain_graph: true, create_graph: true)[0];
            return autograd.grad([gx.square().sum()], [wi])[0];
        }
        var expected = R1(x.to(float64).requires_grad_(true), weight.to(float64).requires_grad_(true), (a, b) => F.conv2d(a, b, padding: [1, 1]));
        var actual = R1(x.clone().requires_grad_(true), weight.clone().requires_grad_(true), (a, b) => GemmConv2d.Apply(a, b, padY: 1, padX: 1));
        Close.Assert(actual, expected, 1e-3, 1e-4, "gradient of the input-gradient penalty");
    }

    /// <summary>Strided, recording, columns over the budget: libtorch's convolution, whose result once died with the op's scope.</summary>
    [Fact]
    public void StridedConvolutionWithOversizedRecordedColumnsSurvivesTheCall()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var x = randn(1, 64, 690, 690).requires_grad_(true);   // 64·9·345² columns > 64 Mi
        var weight = randn(2, 64, 3, 3) / 24;
        var y = GemmConv2d.Apply(x, weight, stride: 2, padY: 1, padX: 1);
        Assert.False(y.IsInvalid);
        using (no_grad()) Close.Assert(y, GemmConv2d.Apply(x.detach(), weight, stride: 2, padY: 1, padX: 1), 1e-4, 1e-4, "output");
        y.sum().backward();
        Assert.NotNull(x.grad);
    }

    [Fact]
    public void RejectsAnInputSmallerThanTheKernel()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => GemmConv2d.Apply(zeros(1, 2, 2, 2), zeros(3, 2, 5, 5)));
    }
}
