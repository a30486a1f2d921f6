using AnyRes.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Networks;

/// <summary>
/// The anyres StyleGAN3 generator: mapping + (patch mode) scale mapping + synthesis (spec 5). State-dict keys equal the
/// reference's (mapping.fc0.weight, synthesis.L0_36_512.weight, scale_mapping.w_avg, ...).
/// </summary>
public sealed class Generator : nn.Module
{
    public GeneratorOptions Options { get; }
    public readonly SynthesisNetwork synthesis;
    public readonly MappingNetwork mapping;
    public readonly MappingNetwork? scale_mapping;

    public int ImgResolution => Options.ImgResolution;
    public int ZDim => Options.ZDim;
    public int CDim => Options.CDim;
    public int WDim => Options.WDim;
    public int NumWs => Options.NumWs;
    public bool HasScaleMapping => scale_mapping is not null;

    /// <summary>A panorama model's frames per turn (its features repeat after this many image units along x), else null.</summary>
    public double? PanoramaPeriod => synthesis.input is SynthesisInput360 pano ? pano.Period : null;

    public Generator(GeneratorOptions options) : base(nameof(Generator))
    {
        options.Validate();
        Options = options;
        synthesis = new SynthesisNetwork(options);
        mapping = new MappingNetwork(options.ZDim, options.CDim, options.WDim, options.NumWs, options.MappingLayers, options.MappingLrMultiplier, options.WAvgBeta);
        register_module("synthesis", synthesis);
        register_module("mapping", mapping);
        if (options.TrainingMode == TrainingMode.Patch)
        {
            scale_mapping = new MappingNetwork(1, options.CDim, options.WDim, options.NumWs, options.MappingLayers, options.MappingLrMultiplier, options.WAvgBeta,
                normalizeInput: options.ScaleConditioning == ScaleConditioning.Parity);
            register_module("scale_mapping", scale_mapping);
        }
    }

    /// <summary>Zoom k = 1/T[0,0] per sample ([B, 1]); the identity (null) is zoom 1.</summary>
    public static Tensor Zoom(Tensor? transform, long batch, Device device) =>
        transform is null ? ones(batch, 1, device: device) : 1 / transform.to(float32)[.., 0, 0].unsqueeze(1);

    /// <summary>
    /// The scale mapping's input: the reference's ScaleNormalizePositive ((k − min)/(max − min) + 0.1) or
    /// ScaleNormalizeZeroCentered (2(k − min)/(max − min) − 1); in LogZoom mode 2·log(k/min)/log(max/min) − 1.
    /// </summary>
    public static Tensor ScaleInput(Tensor zoom, GeneratorOptions o)
    {
        if (o.ScaleConditioning == ScaleConditioning.LogZoom)
            return (zoom / o.ScaleMappingMin).log() * (2 / Math.Log((double)o.ScaleMappingMax / o.ScaleMappingMin)) - 1;
        var s = (zoom - o.ScaleMappingMin) / (double)(o.ScaleMappingMax - o.ScaleMappingMin);
        return o.ScaleMappingNorm == ScaleMappingNorm.ZeroCentered ? 2 * s - 1 : s + 0.1;
    }

    /// <summary>mapped_scale [B, num_ws, w_dim] for the patch transforms (null = zoom 1), or null without a scale branch.</summary>
    public Tensor? MappedScale(Tensor? transform, long batch, Device device, Tensor? c = null, bool updateEmas = false) =>
        scale_mapping?.forward(ScaleInput(Zoom(transform, batch, device), Options), c, updateEmas: updateEmas);

    public Tensor Mapping(Tensor z, Tensor? c, double truncationPsi = 1, int? truncationCutoff = null, bool updateEmas = false) =>
        mapping.forward(z, c, truncationPsi, truncationCutoff, updateEmas);

    /// <summary>
    /// Renders ws through the patch transforms, computing the scale branch from them without updating its average
    /// (util/patch_util.scale_condition_wrapper). c is the label for a conditional scale mapping (the reference passes none).
    /// </summary>
    public Tensor Synthesis(Tensor ws, Tensor? transform = null, bool updateEmas = false, Tensor? c = null) =>
        synthesis.forward(ws, MappedScale(transform, ws.shape[0], ws.device, c), transform, updateEmas);

    public Tensor forward(Tensor z, Tensor? c, Tensor? transform = null, double truncationPsi = 1, int? truncationCutoff = null,
        bool updateEmas = false)
    {
        var ws = Mapping(z, c, truncationPsi, truncationCutoff, updateEmas);
        var mappedScale = MappedScale(transform, z.shape[0], z.device, c, updateEmas);
        return synthesis.forward(ws, mappedScale, transform, updateEmas);
    }
}
