using static TorchSharp.torch;

namespace AnyRes.Ops;

/// <summary>
/// StyleGAN2's minibatch standard deviation layer: per group of min(groupSize, N) samples (group g holds samples
/// g, g + N/G, ...), the std over the group averaged over each of numChannels channel groups and all pixels, appended as
/// numChannels extra feature maps.
/// </summary>
public static class MinibatchStd
{
    public static Tensor Apply(Tensor x, int? groupSize, int numChannels = 1)
    {
        long n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        long g = groupSize is int gs ? Math.Min(gs, n) : n;
        if (n % g != 0) throw new ArgumentException($"batch {n} is not a multiple of the mbstd group size {g}");
        long f = numChannels;
        var y = x.reshape(g, -1, f, c / f, h, w);      // [GnFcHW]
        y = y - y.mean(new long[] { 0 });
        y = y.square().mean(new long[] { 0 });          // [nFcHW]
        y = (y + 1e-8).sqrt();
        y = y.mean(new long[] { 2, 3, 4 });             // [nF]
        y = y.reshape(-1, f, 1, 1).repeat(g, 1, h, w);  // [NFHW]
        return cat(new[] { x, y }, 1);
    }
}
