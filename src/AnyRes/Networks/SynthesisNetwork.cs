using AnyRes.Core;
using AnyRes.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Networks;

/// <summary>
/// SG3 synthesis network: Fourier input, num_layers + 1 synthesis layers on the geometric cutoff/stopband schedule of
/// spec 13.2 (layer L_i gets ws[i + 1] and mapped_scale[i + 1]), output × output_scale.
/// </summary>
public sealed class SynthesisNetwork : nn.Module
{
    public readonly GeneratorOptions Options;
    public readonly SynthesisInput input;
    readonly SynthesisLayer[] layers;
    public IReadOnlyList<string> LayerNames { get; }
    public int NumWs => Options.NumWs;

    /// <summary>
    /// Memory for time while training: autograd records only each layer's inputs and backward recomputes the layer a few
    /// samples at a time (Ops/Recompute). Forwards that update the magnitude EMAs run plainly (a recomputation would update
    /// them twice).
    /// </summary>
    public bool RecomputeInBackward { get; set; }

    public SynthesisNetwork(GeneratorOptions o) : base(nameof(SynthesisNetwork))
    {
        Options = o;
        var (inputArgs, layerArgs) = Schedule(o);
        input = o.Panorama
            ? new SynthesisInput360(o.WDim, inputArgs.Channels, inputArgs.Size, inputArgs.SamplingRate, inputArgs.Bandwidth, o.MarginSize, o.Fov)
            : new SynthesisInput(o.WDim, inputArgs.Channels, inputArgs.Size, inputArgs.SamplingRate, inputArgs.Bandwidth);
        register_module("input", input);
        layers = layerArgs.Select(a => new SynthesisLayer(a)).ToArray();
        LayerNames = layerArgs.Select((a, i) => LayerName(i, a)).ToArray();
        for (int i = 0; i < layers.Length; i++) register_module(LayerNames[i], layers[i]);
    }

    public IReadOnlyList<SynthesisLayer> Layers => layers;

    public static string LayerName(int index, SynthesisLayerArgs a) => $"L{index}_{a.OutSize}_{a.OutChannels}";

    public sealed record InputArgs(int Channels, int Size, int SamplingRate, double Bandwidth);

    /// <summary>The layer schedule of spec 13.2, evaluated in the reference's float64 order.</summary>
    public static (InputArgs Input, IReadOnlyList<SynthesisLayerArgs> Layers) Schedule(GeneratorOptions o)
    {
        int n = o.NumLayers, r = o.ImgResolution;
        double lastCutoff = r / 2.0, lastStopband = lastCutoff * o.LastStopbandRel;
        var cutoffs = new double[n + 1];
        var stopbands = new double[n + 1];
        var rates = new int[n + 1];
        var halfWidths = new double[n + 1];
        var sizes = new int[n + 1];
        var channels = new int[n + 1];
        for (int i = 0; i <= n; i++)
        {
            double e = Math.Min(i / (double)(n - o.NumCritical), 1);
            cutoffs[i] = o.FirstCutoff * Math.Pow(lastCutoff / o.FirstCutoff, e);
            stopbands[i] = o.FirstStopband * Math.Pow(lastStopband / o.FirstStopband, e);
            rates[i] = (int)Math.Pow(2, Math.Ceiling(Math.Log2(Math.Min(stopbands[i] * 2, r))));
            halfWidths[i] = Math.Max(stopbands[i], rates[i] / 2.0) - cutoffs[i];
            sizes[i] = i >= n - 1 ? r : rates[i] + o.MarginSize * 2;
            channels[i] = i == n ? o.ImgChannels : (int)Math.Round(Math.Min(o.ChannelBase / 2.0 / cutoffs[i], o.ChannelMax), MidpointRounding.ToEven);
        }
        var layerArgs = new List<SynthesisLayerArgs>();
        for (int i = 0; i <= n; i++)
        {
            int prev = Math.Max(i - 1, 0);
            layerArgs.Add(new SynthesisLayerArgs
            {
                WDim = o.WDim, IsTorgb = i == n, IsCriticallySampled = i >= n - o.NumCritical,
                UseFp16 = rates[i] * Math.Pow(2, o.NumFp16Res) > r,
                InChannels = channels[prev], OutChannels = channels[i], InSize = sizes[prev], OutSize = sizes[i],
                InSamplingRate = rates[prev], OutSamplingRate = rates[i], InCutoff = cutoffs[prev], OutCutoff = cutoffs[i],
                InHalfWidth = halfWidths[prev], OutHalfWidth = halfWidths[i],
                ConvKernel = o.ConvKernel, FilterSize = o.FilterSize, LreluUpsampling = o.LreluUpsampling,
                UseRadialFilters = o.UseRadialFilters, ConvClamp = o.ConvClamp, MagnitudeEmaBeta = o.MagnitudeEmaBeta,
                UseScaleAffine = o.TrainingMode == TrainingMode.Patch,
            });
        }
        return (new InputArgs(channels[0], sizes[0], rates[0], cutoffs[0]), layerArgs);
    }

    /// <summary>ws [B, num_ws, w_dim], mappedScale [B, num_ws, w_dim] or null, transform [B, 3, 3] or null → [B, C, R, R].</summary>
    public Tensor forward(Tensor ws, Tensor? mappedScale = null, Tensor? transform = null, bool updateEmas = false)
    {
        Shapes.Assert(ws, -1, NumWs, Options.WDim);
        var w = ws.to(float32).unbind(1);
        var scale = mappedScale?.to(float32).unbind(1);
        var x = input.forward(w[0], transform);
        var chain = RecomputeInBackward && !updateEmas ? new Recompute.Chain() : null;
        for (int i = 0; i < layers.Length; i++)
        {
            var layer = layers[i];
            var next = chain is null
                ? layer.forward(x, w[i + 1], scale?[i + 1], updateEmas)
                : Recompute.Layer((xi, wi, si) => layer.forward(xi, wi, si), x, w[i + 1], scale?[i + 1], layer.parameters(), layer.Args.TmpElementsPerSample, chain);
            x.Dispose();   // the caller's scope would otherwise hold every layer's output until the end (autograd keeps its own)
            x = next;
        }
        if (Options.OutputScale != 1) x = x * Options.OutputScale;
        Shapes.Assert(x, -1, Options.ImgChannels, Options.ImgResolution, Options.ImgResolution);
        return x.to(float32);
    }
}
