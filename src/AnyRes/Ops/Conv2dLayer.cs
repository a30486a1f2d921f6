using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AnyRes.Ops;

/// <summary>
/// StyleGAN2's equalized-learning-rate Conv2dLayer with optional downsampling (conv2d_resample, reference paths):
/// weight ~ N(0,1) scaled by 1/√(in·k²) at run time, then bias, activation, gain and clamp (bias_act).
/// Down-k with a k×k kernel filters with the [1,3,3,1] low-pass and uses a strided convolution; a 1×1 kernel downsamples
/// first. Convolutions correlate, as the reference's flip_weight=True for up = 1.
/// Based on: NVlabs/stylegan3 training/networks_stylegan2.py (Conv2dLayer), torch_utils/ops/conv2d_resample.py.
/// </summary>
public sealed class Conv2dLayer : nn.Module<Tensor, Tensor>
{
    public readonly int InChannels, OutChannels, KernelSize, Down;
    public readonly string Activation;
    readonly double weightGain;
    readonly double actGain;          // activation's default gain × the layer's gain
    readonly double? actClamp;        // conv_clamp × the layer's gain
    readonly (int X0, int X1, int Y0, int Y1) padding;

    // Trainable layers hold weight and bias as parameters, frozen ones (Freeze-D) as buffers: same state-dict keys.
    readonly Tensor weight;
    readonly Tensor? bias;
    readonly Tensor resample_filter;

    /// <param name="gain">Extra gain on the activation and the clamp; the reference passes it at call time (√0.5 in ResNet D blocks).</param>
    /// <param name="convClamp">Clamp the output to ±convClamp·gain; null = no clamp.</param>
    public Conv2dLayer(int inChannels, int outChannels, int kernelSize, bool bias = true, string activation = "linear", int down = 1,
        double gain = 1, double? convClamp = null, bool trainable = true, float[]? resampleFilter = null) : base(nameof(Conv2dLayer))
    {
        if (down < 1) throw new ArgumentOutOfRangeException(nameof(down));
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Down = down;
        Activation = activation;
        weightGain = 1 / Math.Sqrt(inChannels * kernelSize * kernelSize);
        actGain = BiasAct.DefaultGain(activation) * gain;
        actClamp = convClamp * gain;

        resample_filter = Upfirdn2d.SetupFilter(resampleFilter ?? [1, 3, 3, 1]);
        int fw = (int)resample_filter.shape[^1], fh = (int)resample_filter.shape[0], p = kernelSize / 2;
        padding = down > 1
            ? (p + (fw - down + 1) / 2, p + (fw - down) / 2, p + (fh - down + 1) / 2, p + (fh - down) / 2)
            : (p, p, p, p);

        var w = randn(outChannels, inChannels, kernelSize, kernelSize);
        var b = bias ? zeros(outChannels) : null;
        weight = trainable ? new Parameter(w) : w;
        this.bias = trainable && b is not null ? new Parameter(b) : b;
        register_buffer("resample_filter", resample_filter);
        if (trainable) register_parameter("weight", (Parameter)weight); else register_buffer("weight", weight);
        if (this.bias is not null)
        {
            if (trainable) register_parameter("bias", (Parameter)this.bias); else register_buffer("bias", this.bias);
        }
    }

    public override Tensor forward(Tensor x)
    {
        var w = (weight * weightGain).to(x.dtype);
        var pad = new[] { padding.X0, padding.X1, padding.Y0, padding.Y1 };
        if (Down == 1)
            x = GemmConv2d.Apply(x, w, padY: padding.Y0, padX: padding.X0);
        else if (KernelSize == 1)
            x = GemmConv2d.Apply(Upfirdn2d.Apply(x, resample_filter, down: Down, padding: pad), w);
        else
            x = GemmConv2d.Apply(Upfirdn2d.Apply(x, resample_filter, padding: pad), w, stride: Down);
        return BiasAct.Apply(x, bias?.to(x.dtype), act: Activation, gain: actGain, clamp: actClamp);
    }

    public override string ToString() =>
        $"Conv2dLayer(in_channels={InChannels}, out_channels={OutChannels}, kernel_size={KernelSize}, activation={Activation}, down={Down})";
}
