using AnyRes.Ops;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AnyRes.Tests.Ops;

/// <summary>
/// The polyphase upfirdn2d against a brute-force transcription of the reference algorithm (zero insertion, pad or crop,
/// depthwise convolution with the flipped filter, decimation) on random data, float64.
/// </summary>
public class Upfirdn2dTests
{
    static Tensor BruteForce(Tensor x, Tensor f, int up, int down, int[] p, bool flip, double gain)
    {
        long n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        var u = zeros(n, c, h * up, w * up, dtype: x.dtype);
        u.slice(2, 0, h * up, up).slice(3, 0, w * up, up).copy_(x);
        u = F.pad(u, new long[] { Math.Max(p[0], 0), Math.Max(p[1], 0), Math.Max(p[2], 0), Math.Max(p[3], 0) });
        u = u.slice(2, Math.Max(-p[2], 0), u.shape[2] - Math.Max(-p[3], 0), 1).slice(3, Math.Max(-p[0], 0), u.shape[3] - Math.Max(-p[1], 0), 1);
        var k = f.dim() == 1 ? outer(f, f) * gain : f * gain;
        if (!flip) k = k.flip(0, 1);
        var y = F.conv2d(u, k.to(x.dtype).expand(c, 1, k.shape[0], k.shape[1]).contiguous(), groups: c);
        return y.slice(2, 0, y.shape[2], down).slice(3, 0, y.shape[3], down);
    }

    [Theory]
    [InlineData(1, 1, new[] { 0, 0, 0, 0 }, false, 1.0, false)]
    [InlineData(2, 1, new[] { 9, 8, 9, 8 }, false, 4.0, false)]
    [InlineData(4, 1, new[] { -6, -9, -6, -9 }, true, 16.0, false)]
    [InlineData(1, 2, new[] { 0, 0, 0, 0 }, false, 1.0, false)]
    [InlineData(1, 2, new[] { 2, 1, 1, 2 }, false, 1.0, true)]
    [InlineData(2, 2, new[] { 3, -2, 1, 4 }, true, 2.0, true)]
    [InlineData(3, 2, new[] { -1, 2, 0, -3 }, false, 1.5, false)]
    public void MatchesBruteForce(int up, int down, int[] pad, bool flip, double gain, bool twoD)
    {
        manual_seed(1);
        var x = randn(2, 3, 11, 9, dtype: float64);
        var taps = randn(5, dtype: float64);
        var f = twoD ? randn(4, 5, dtype: float64) : taps;
        var expected = BruteForce(x, f, up, down, pad, flip, gain);
        Close.Assert(Upfirdn2d.Apply(x, f, up, down, pad, flip, gain), expected, 1e-12, 1e-12, "upfirdn2d");
        // float32, also from a channels-last input (libtorch's depthwise conv mishandled that layout).
        var x32 = x.to(float32);
        Close.Assert(Upfirdn2d.Apply(x32, f.to(float32), up, down, pad, flip, gain), expected, 1e-4, 1e-4, "upfirdn2d float32");
        var channelsLast = x32.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
        Close.Assert(Upfirdn2d.Apply(channelsLast, f.to(float32), up, down, pad, flip, gain), expected, 1e-4, 1e-4, "upfirdn2d channels-last");
    }

    /// <summary>
    /// Float32 input gradients equal the float64 ones: guards against libtorch's wrong float32 input gradient of
    /// single-input-channel convolutions with batch > 1.
    /// </summary>
    [Theory]
    [InlineData(2, 1, new[] { 9, 8, 9, 8 }, false)]
    [InlineData(4, 1, new[] { -6, -9, -6, -9 }, false)]
    [InlineData(1, 2, new[] { 0, 0, 0, 0 }, false)]
    [InlineData(1, 2, new[] { 1, 1, 1, 1 }, true)]
    public void Float32GradientsMatchFloat64(int up, int down, int[] pad, bool twoD)
    {
        manual_seed(2);
        var x = randn(4, 3, 20, 20, dtype: float64);
        var f = twoD ? randn(4, 4, dtype: float64) : randn(12, dtype: float64);
        Tensor Grad(ScalarType t)
        {
            var xt = x.to(t).requires_grad_(true);
            var y = Upfirdn2d.Apply(xt, f.to(t), up, down, pad);
            manual_seed(3);
            var w = randn(y.shape, dtype: float64).to(t);
            return autograd.grad(new[] { (y * w).sum() }, new[] { xt })[0];
        }
        Close.Assert(Grad(float32), Grad(float64), 1e-4, 1e-4, "float32 gradient");
    }

    [Fact]
    public void SetupFilterMakesSmallFiltersTwoDimensional()
    {
        var f = Upfirdn2d.SetupFilter(new float[] { 1, 3, 3, 1 });
        Assert.Equal(new long[] { 4, 4 }, f.shape);
        Close.Assert(f, outer(tensor(new float[] { 1, 3, 3, 1 }), tensor(new float[] { 1, 3, 3, 1 })) / 64, 0, 1e-7, "[1,3,3,1]");
        Assert.Equal(new long[] { 8 }, Upfirdn2d.SetupFilter(Enumerable.Repeat(1f, 8).ToArray()).shape);
    }

    [Fact]
    public void WrappersKeepTheirSizes()
    {
        var x = randn(1, 2, 8, 8);
        var f = Upfirdn2d.SetupFilter(new float[] { 1, 3, 3, 1 });
        Assert.Equal(new long[] { 1, 2, 8, 8 }, Upfirdn2d.Filter2d(x, f).shape);
        Assert.Equal(new long[] { 1, 2, 16, 16 }, Upfirdn2d.Upsample2d(x, f).shape);
        Assert.Equal(new long[] { 1, 2, 4, 4 }, Upfirdn2d.Downsample2d(x, f).shape);
        // A constant image stays constant inside under the unit-DC filters.
        var c = ones(1, 1, 8, 8);
        Close.Assert(Upfirdn2d.Upsample2d(c, f).slice(2, 2, 14, 1).slice(3, 2, 14, 1), ones(1, 1, 12, 12), 1e-6, 0, "upsample DC");
    }
}
