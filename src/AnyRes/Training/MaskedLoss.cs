using static TorchSharp.torch;

namespace AnyRes.Training;

/// <summary>The masked reductions of <c>util/losses.py</c> (spec §6.3): per-sample means over the pixels a mask keeps.</summary>
public static class MaskedLoss
{
    /// <summary><c>Masked_L1_Loss</c>: Σ|a − b|·m / Σm over C, H, W, the [B, 1, H, W] mask repeated over channels. Returns [B].</summary>
    public static Tensor L1(Tensor a, Tensor b, Tensor mask)
    {
        var dims = new long[] { 1, 2, 3 };
        return ((a - b).abs() * mask).sum(dims) / (mask.sum(dims) * a.shape[1]);
    }

    /// <summary>The masked average of a [B, 1, H, W] distance map (<c>Masked_LPIPS_Loss</c>). Returns [B].</summary>
    public static Tensor Mean(Tensor map, Tensor mask)
    {
        var dims = new long[] { 1, 2, 3 };
        return (map * mask).sum(dims) / mask.sum(dims);
    }
}
