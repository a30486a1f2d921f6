using AnyRes.Training;
using static TorchSharp.torch;

namespace AnyRes.Tests.Training;

/// <summary>The masked reductions of util/losses.py on inputs whose answer is known in closed form.</summary>
public class MaskedLossTests
{
    [Fact]
    public void L1_averages_over_the_kept_pixels_and_the_channels()
    {
        // Sample 0: |a − b| = 1, 2, 3 in the three channels everywhere; the mask keeps 2 of 4 pixels → (1 + 2 + 3) / 3 = 2.
        // Sample 1: a = b except one kept pixel of channel 0 off by 6; the mask keeps 3 pixels → 6 / (3·3) = 2/3.
        var a = zeros(2, 3, 2, 2);
        var b = zeros(2, 3, 2, 2);
        for (int c = 0; c < 3; c++) a[0, c] = full(2, 2, c + 1.0f);
        a[1, 0, 1, 1] = 6;
        var mask = tensor(new float[] { 1, 1, 0, 0, 1, 1, 0, 1 }, new long[] { 2, 1, 2, 2 });
        var loss = MaskedLoss.L1(a, b, mask).data<float>().ToArray();
        Assert.Equal(2f, loss[0], 6);
        Assert.Equal(2f / 3, loss[1], 6);
    }

    [Fact]
    public void Mean_is_the_average_of_the_map_where_the_mask_is_one()
    {
        var map = tensor(new float[] { 1, 2, 3, 4 }, new long[] { 1, 1, 2, 2 });
        var mask = tensor(new float[] { 0, 1, 0, 1 }, new long[] { 1, 1, 2, 2 });
        Assert.Equal(3f, MaskedLoss.Mean(map, mask).item<float>(), 6);   // (2 + 4) / 2
    }
}
