using AnyRes.Ops;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AnyRes.Tests.Ops;

/// <summary>Recomputed backward (activation checkpointing in sample chunks) against the ordinary recorded backward.</summary>
public class RecomputeTests
{
    /// <summary>A per-sample function of two batched inputs and three parameters, one of them frozen.</summary>
    static Tensor Layer(Tensor x, Tensor s, Tensor weight, Tensor bias, Tensor frozen) =>
        F.leaky_relu(F.conv2d(x * s.unsqueeze(2).unsqueeze(3), weight, padding: new long[] { 1, 1 }) + bias.view(1, -1, 1, 1), 0.2) * frozen;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(8)]
    public void GradientsEqualTheRecordedBackward(long chunk)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var x0 = randn(5, 3, 6, 7);
        var s0 = randn(5, 3);
        var weight = randn(4, 3, 3, 3).requires_grad_(true);
        var bias = randn(4).requires_grad_(true);
        var frozen = randn(1, 4, 1, 1);
        var loss = randn(5, 4, 6, 7);

        var x = x0.clone().requires_grad_(true);
        var s = s0.clone().requires_grad_(true);
        (Layer(x * 2, s, weight, bias, frozen) * loss).sum().backward();
        var expected = new[] { x.grad!.clone(), s.grad!.clone(), weight.grad!.clone(), bias.grad!.clone() };
        weight.grad!.zero_();
        bias.grad!.zero_();

        var xr = x0.clone().requires_grad_(true);
        var sr = s0.clone().requires_grad_(true);
        var y = Recompute.Apply(t => Layer(t[0], t[1], weight, bias, frozen), new[] { xr * 2, sr }, new[] { weight, bias, frozen }, chunk, new Recompute.Chain());
        Assert.True(y.requires_grad);
        using (no_grad()) Close.Assert(y, Layer(x0 * 2, s0, weight, bias, frozen), 0, 0, "forward");
        (y * loss).sum().backward();
        var actual = new[] { xr.grad!, sr.grad!, weight.grad!, bias.grad! };
        foreach (var (a, e, name) in actual.Zip(expected, new[] { "x", "s", "weight", "bias" }))
            Close.Assert(a, e, 1e-5, 1e-5, "grad " + name);
        Assert.Null(frozen.grad);
    }

    [Fact]
    public void WithoutGradientsItIsThePlainFunction()
    {
        using var scope = NewDisposeScope();
        var x = randn(2, 3);
        int calls = 0;
        Tensor f(Tensor[] t) { calls++; return t[0] * 3; }
        using (no_grad())
        {
            var y = Recompute.Apply(f, new[] { x.requires_grad_(true) }, Array.Empty<Tensor>(), 1, new Recompute.Chain());
            Assert.False(y.requires_grad);
        }
        Assert.False(Recompute.Apply(f, new[] { x.detach() }, Array.Empty<Tensor>(), 1, new Recompute.Chain()).requires_grad);
        Assert.Equal(2, calls);
    }
}
