using AnyRes.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Tests.Core;

public class NativeSettingsTests
{
    [Theory]
    [InlineData(null, HeapMode.Reuse)]
    [InlineData("", HeapMode.Reuse)]
    [InlineData("reuse", HeapMode.Reuse)]
    [InlineData(" Release ", HeapMode.Release)]
    [InlineData("mmap", null)]
    public void HeapModeVariableIsParsed(string? value, HeapMode? expected) => Assert.Equal(expected, NativeSettings.ParseHeapMode(value));

    /// <summary>
    /// float32 convolution input gradients agree with float64 (they did not with oneDNN's AVX-512 kernels, see NativeSettings),
    /// repeated because the wrong results varied from call to call.
    /// </summary>
    [Fact]
    public void ConvolutionInputGradientsMatchFloat64()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var w = randn(8, 3, 11, 11) / 20;
        var x0 = rand(2, 3, 48, 48) * 2 - 1;
        foreach (var (stride, pad) in new[] { (4L, 2L), (2L, 2L), (1L, 2L) })
        {
            var x64 = x0.to(float64).requires_grad_(true);
            var g64 = autograd.grad([nn.functional.conv2d(x64, w.to(float64), strides: [stride, stride], padding: [pad, pad]).square().sum()], [x64])[0];
            for (int rep = 0; rep < 3; rep++)
            {
                var x = x0.clone().requires_grad_(true);
                var g = autograd.grad([nn.functional.conv2d(x, w, strides: [stride, stride], padding: [pad, pad]).square().sum()], [x])[0];
                Close.Assert(g, g64, 1e-4, 1e-4, $"conv input gradient (stride {stride}, try {rep})");
            }
        }
    }

    /// <summary>The small-shape forward that returned NaN with oneDNN capped at AVX2.</summary>
    [Fact]
    public void SmallConvolutionForwardMatchesFloat64()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        var w = randn(16, 12, 3, 3) / 6;
        var b = randn(16) / 10;
        var x = nn.functional.relu(randn(4, 12, 2, 2));
        var y = nn.functional.conv2d(x, w, b, padding: [1, 1]);
        var y64 = nn.functional.conv2d(x.to(float64), w.to(float64), b.to(float64), padding: [1, 1]);
        Close.Assert(y, y64, 1e-5, 1e-5, "3×3 convolution of a 2×2 input");
    }
}
