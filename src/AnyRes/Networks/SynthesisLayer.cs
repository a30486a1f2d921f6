using AnyRes.Core;
using AnyRes.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AnyRes.Networks;

/// <summary>Constructor arguments of one SG3 synthesis layer (the reference's names), with the quantities it derives.</summary>
public sealed record SynthesisLayerArgs
{
    public required int WDim { get; init; }
    public required bool IsTorgb { get; init; }
    public required bool IsCriticallySampled { get; init; }
    public required bool UseFp16 { get; init; }
    public required int InChannels { get; init; }
    public required int OutChannels { get; init; }
    public required int InSize { get; init; }
    public required int OutSize { get; init; }
    public required int InSamplingRate { get; init; }
    public required int OutSamplingRate { get; init; }
    public required double InCutoff { get; init; }
    public required double OutCutoff { get; init; }
    public required double InHalfWidth { get; init; }
    public required double OutHalfWidth { get; init; }
    public int ConvKernel { get; init; } = 3;
    public int FilterSize { get; init; } = 6;
    public int LreluUpsampling { get; init; } = 2;
    public bool UseRadialFilters { get; init; } = false;
    public double? ConvClamp { get; init; } = 256;
    public double MagnitudeEmaBeta { get; init; } = 0.999;
    public bool UseScaleAffine { get; init; } = false;

    public int Kernel => IsTorgb ? 1 : ConvKernel;
    public int TmpSamplingRate => Math.Max(InSamplingRate, OutSamplingRate) * (IsTorgb ? 1 : LreluUpsampling);
    public int UpFactor => TmpSamplingRate / InSamplingRate;
    public int DownFactor => TmpSamplingRate / OutSamplingRate;
    public int UpTaps => UpFactor > 1 && !IsTorgb ? FilterSize * UpFactor : 1;
    public int DownTaps => DownFactor > 1 && !IsTorgb ? FilterSize * DownFactor : 1;
    public bool DownRadial => UseRadialFilters && !IsCriticallySampled;

    /// <summary>[x0, x1, y0, y1] padding of the upsampled signal (symmetric interpretation, SG3 appendix C.3).</summary>
    public int[] Padding
    {
        get
        {
            int total = (OutSize - 1) * DownFactor + 1 - (InSize + Kernel - 1) * UpFactor + UpTaps + DownTaps - 2;
            int lo = FloorDiv(total + UpFactor, 2), hi = total - lo;
            return new[] { lo, hi, lo, hi };
        }
    }

    static int FloorDiv(int a, int b) => (int)Math.Floor(a / (double)b);

    /// <summary>Elements per sample of the filtered leaky ReLU's upsampled intermediate, the layer's largest tensor.</summary>
    public long TmpElementsPerSample => (long)OutChannels * (InSize + Kernel - 1) * UpFactor * (InSize + Kernel - 1) * UpFactor;
}

/// <summary>
/// SG3 synthesis layer (spec 13.4, 13.5) with the anyres scale affine (spec 5.3): styles = affine(w) + scale_affine(scale),
/// modulated conv with the input gain 1/√magnitude_ema, then bias + filtered leaky ReLU.
/// </summary>
public sealed class SynthesisLayer : nn.Module
{
    public readonly SynthesisLayerArgs Args;
    readonly FullyConnectedLayer affine;
    readonly FullyConnectedLayer? scale_affine;
    public readonly Parameter weight, bias;
    public readonly Tensor magnitude_ema;
    public readonly Tensor? up_filter, down_filter;

    public SynthesisLayer(SynthesisLayerArgs a) : base(nameof(SynthesisLayer))
    {
        Args = a;
        if (a.InSamplingRate * a.UpFactor != a.TmpSamplingRate || a.OutSamplingRate * a.DownFactor != a.TmpSamplingRate)
            throw new ArgumentException("sampling rates must divide the intermediate rate");
        affine = new FullyConnectedLayer(a.WDim, a.InChannels, biasInit: new[] { 1.0 });
        weight = new Parameter(randn(a.OutChannels, a.InChannels, a.Kernel, a.Kernel));
        bias = new Parameter(zeros(a.OutChannels));
        magnitude_ema = ones(Array.Empty<long>());
        register_module("affine", affine);
        register_parameter("weight", weight);
        register_parameter("bias", bias);
        register_buffer("magnitude_ema", magnitude_ema);
        up_filter = FilterDesign.DesignLowpass(a.UpTaps, a.InCutoff, a.InHalfWidth * 2, a.TmpSamplingRate);
        down_filter = FilterDesign.DesignLowpass(a.DownTaps, a.OutCutoff, a.OutHalfWidth * 2, a.TmpSamplingRate, a.DownRadial);
        if (up_filter is not null) register_buffer("up_filter", up_filter);
        if (down_filter is not null) register_buffer("down_filter", down_filter);
        if (a.UseScaleAffine)
        {
            scale_affine = new FullyConnectedLayer(a.WDim, a.InChannels, biasInit: new[] { 0.0 });
            register_module("scale_affine", scale_affine);
        }
    }

    /// <summary>x [B, in_channels, in_size, in_size], w [B, w_dim], scale [B, w_dim] (required with the scale affine).</summary>
    public Tensor forward(Tensor x, Tensor w, Tensor? scale = null, bool updateEmas = false)
    {
        var a = Args;
        Shapes.Assert(x, -1, a.InChannels, a.InSize, a.InSize);
        // Intermediates are released at the end of the layer (autograd keeps its own references to what backward needs).
        using var scope = NewDisposeScope();
        Shapes.Assert(w, x.shape[0], a.WDim);

        if (updateEmas)
            using (no_grad()) magnitude_ema.copy_(x.detach().to(float32).square().mean().lerp(magnitude_ema, a.MagnitudeEmaBeta));
        var inputGain = magnitude_ema.rsqrt();

        var styles = affine.forward(w);
        if (scale_affine is not null)
        {
            if (scale is null) throw new ArgumentException("this layer has a scale affine: the mapped scale is required");
            styles = styles + scale_affine.forward(scale);
        }
        if (a.IsTorgb) styles = styles * (1 / Math.Sqrt(a.InChannels * a.Kernel * a.Kernel));

        var conv = ModulatedConv2d.Coefficient(weight, styles, demodulate: !a.IsTorgb, inputGain: inputGain);
        x = x.to(float32);
        bool recording = is_grad_enabled() && (x.requires_grad || styles.requires_grad || weight.requires_grad || bias.requires_grad);
        x = SampleLoop.Map(x, new[] { x.shape[0], a.OutChannels, a.OutSize, a.OutSize }, recording,
            (samples, first, into) => Activation(conv.Apply(samples, a.Kernel - 1, first), into));
        Shapes.Assert(x, -1, a.OutChannels, a.OutSize, a.OutSize);
        return x.MoveToOuterDisposeScope();
    }

    Tensor Activation(Tensor convolved, Tensor? into)
    {
        var a = Args;
        return FilteredLrelu.Apply(convolved, up_filter, down_filter, bias.to(convolved.dtype), a.UpFactor, a.DownFactor, a.Padding,
            gain: a.IsTorgb ? 1 : Math.Sqrt(2), slope: a.IsTorgb ? 1 : 0.2, clamp: a.ConvClamp, into: into);
    }
}
