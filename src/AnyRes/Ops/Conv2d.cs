using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AnyRes.Ops;

/// <summary>
/// conv2d that steers around a libtorch 2.10 CPU bug: with NCHW input, convolutions whose input channels per group are
/// above 16 and not a multiple of 16 (k ≥ 2; e.g. the discriminator epilogue's 513 → 512, SG3's 362 or 181 channels)
/// return outputs off by ~10% of their range (batch ≥ 2, any thread count; measured on an AVX-512 CPU). The same
/// convolution on a channels-last copy of the input is exact, so those shapes go that way; results are NCHW-contiguous.
/// </summary>
public static class Conv2d
{
    public static Tensor Apply(Tensor x, Tensor w, Tensor? bias = null, long stride = 1, long padding = 0, long groups = 1)
    {
        long perGroup = w.shape[1], k = w.shape[2] * w.shape[3];
        bool affected = x.device_type == TorchSharp.DeviceType.CPU && perGroup > 16 && perGroup % 16 != 0 && k > 1;
        var input = affected ? x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : x;
        var y = F.conv2d(input, w, bias, strides: new[] { stride, stride }, padding: new[] { padding, padding }, groups: groups);
        return affected ? y.contiguous() : y;
    }
}
