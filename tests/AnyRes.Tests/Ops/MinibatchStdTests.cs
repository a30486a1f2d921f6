using AnyRes.Ops;
using static TorchSharp.torch;

namespace AnyRes.Tests.Ops;

public class MinibatchStdTests
{
    /// <summary>Sample j belongs to group j mod (N/G); its extra channel is the group's std, averaged over C, H, W.</summary>
    [Fact]
    public void AppendsGroupStandardDeviation()
    {
        manual_seed(5);
        var x = randn(6, 4, 3, 3, dtype: float64);
        var y = MinibatchStd.Apply(x, groupSize: 2);
        Assert.Equal(new long[] { 6, 5, 3, 3 }, y.shape);
        Close.Assert(y.narrow(1, 0, 4), x, 0, 0, "passes input through");
        for (int j = 0; j < 6; j++)
        {
            var members = x.index_select(0, tensor(new long[] { j % 3, j % 3 + 3 }));
            var std = (members.var(0, unbiased: false, keepdim: false) + 1e-8).sqrt().mean().item<double>();
            Assert.Equal(std, y[j, 4, 1, 2].item<double>(), 12);
            Assert.Equal(std, y[j, 4, 0, 0].item<double>(), 12);
        }
    }
}
