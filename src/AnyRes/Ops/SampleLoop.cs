using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Ops;

/// <summary>
/// Memory for inference: a layer that treats samples independently, run without autograd on the CPU, writes one sample at a
/// time into a preallocated output, so only one sample's intermediates (the upsampled activation, the largest) exist at once.
/// With autograd recording, or off the CPU, it runs on the whole batch.
/// </summary>
public static class SampleLoop
{
    /// <param name="f">(samples of x, index of the first of them, output slice to write into or null) → the output.</param>
    public static Tensor Map(Tensor x, long[] outShape, bool recording, Func<Tensor, long, Tensor?, Tensor> f)
    {
        if (recording || x.device_type != DeviceType.CPU) return f(x, 0, null);
        var y = empty(outShape, dtype: x.dtype, device: x.device);
        for (long i = 0; i < x.shape[0]; i++)
        {
            using var sampleScope = NewDisposeScope();
            f(x.narrow(0, i, 1), i, y.narrow(0, i, 1));
        }
        return y;
    }
}
