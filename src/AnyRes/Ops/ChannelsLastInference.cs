using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Ops;

/// <summary>
/// How a frozen convolution with bias (+ residual) (+ ReLU) runs for inference on channels-last [N, H, W, C] activations:
/// Winograd F(4×4, 3×3) where it suits the layer (<see cref="WinogradConv2d.Suits"/>), else the tap-matrix GEMM of
/// <see cref="ChannelsLastConv2d"/>. The weights are turned into what the chosen path multiplies once, at the first call
/// (and again when they move to another device).
/// </summary>
public sealed class ChannelsLastInference(long stride, long padBegin, long padEnd) : IDisposable
{
    Tensor? prepared;

    public Tensor Apply(Tensor x, Tensor weight, Tensor bias, Tensor? residual = null, bool relu = false)
    {
        bool winograd = WinogradConv2d.Suits(weight.shape[1], weight.shape[2], weight.shape[3], stride);
        // TorchSharp's Device has reference equality: compare type and index.
        if (prepared is null || prepared.device_type != weight.device_type || prepared.device_index != weight.device_index)
        {
            prepared?.Dispose();
            using var _ = no_grad();
            prepared = (winograd ? WinogradConv2d.FilterMatrix(weight) : ChannelsLastConv2d.TapMatrix(weight)).DetachFromDisposeScope();
        }
        return winograd ? WinogradConv2d.Apply(x, prepared, bias, padBegin, padEnd, residual, relu)
            : ChannelsLastConv2d.Apply(x, prepared, weight.shape[2], weight.shape[3], bias, stride, padBegin, padEnd, residual, relu);
    }

    public void Dispose() => prepared?.Dispose();
}
