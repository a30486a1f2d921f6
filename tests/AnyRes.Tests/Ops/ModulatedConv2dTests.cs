using AnyRes.Ops;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AnyRes.Tests.Ops;

/// <summary>ModulatedConv2d against the reference's per-sample weight modulation + grouped convolution (spec 13.4).</summary>
public class ModulatedConv2dTests
{
    static Tensor GroupedReference(Tensor x, Tensor w, Tensor s, bool demodulate, int padding, Tensor? gain)
    {
        long b = x.shape[0], o = w.shape[0], i = w.shape[1], k = w.shape[2];
        if (demodulate)
        {
            w = w * w.square().mean(new long[] { 1, 2, 3 }, keepdim: true).rsqrt();
            s = s * s.square().mean().rsqrt();
        }
        var wb = w.unsqueeze(0) * s.view(b, 1, i, 1, 1);
        if (demodulate) wb = wb * (wb.square().sum(new long[] { 2, 3, 4 }) + 1e-8).rsqrt().view(b, o, 1, 1, 1);
        if (gain is not null) wb = wb * gain.expand(b, i).view(b, 1, i, 1, 1);
        var y = F.conv2d(x.reshape(1, -1, x.shape[2], x.shape[3]), wb.reshape(-1, i, k, k), padding: new long[] { padding, padding }, groups: b);
        return y.reshape(b, -1, y.shape[2], y.shape[3]);
    }

    [Theory]
    [InlineData(true, 3, 2)]
    [InlineData(false, 1, 0)]
    public void MatchesGroupedConvolution(bool demodulate, int k, int padding)
    {
        manual_seed(3);
        var x = randn(3, 5, 7, 7, dtype: float64);
        var w = randn(4, 5, k, k, dtype: float64);
        var s = randn(3, 5, dtype: float64);
        var gain = tensor(0.7, dtype: float64);
        Close.Assert(ModulatedConv2d.Apply(x, w, s, demodulate, padding, gain), GroupedReference(x, w, s, demodulate, padding, gain), 1e-12, 1e-10, "modulated conv");
    }
}
