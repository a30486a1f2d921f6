using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Tests.Core;

public class TorchSharpTests
{
    [Fact]
    public void Conv2dForwardAndBackwardMatchClosedForm()
    {
        using var scope = NewDisposeScope();
        // A 1x1 convolution is a per-pixel matrix product: y = W x, and d(sum y^2)/dW = 2 sum_pixels y x^T.
        var x = randn(2, 3, 5, 5, dtype: float64);
        var w = randn(4, 3, 1, 1, dtype: float64, requires_grad: true);
        var y = nn.functional.conv2d(x, w);
        y.square().sum().backward();
        var xs = x.permute(1, 0, 2, 3).reshape(3, -1);
        var ys = w.detach().reshape(4, 3).matmul(xs);
        Assert.True(allclose(y.permute(1, 0, 2, 3).reshape(4, -1), ys, 1e-12, 1e-12));
        var expected = (2 * ys.matmul(xs.t())).reshape(4, 3, 1, 1);
        Assert.True(allclose(w.grad!, expected, 1e-10, 1e-10));
    }
}
