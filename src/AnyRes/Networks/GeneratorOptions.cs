using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using AnyRes.Core;

namespace AnyRes.Networks;

/// <summary>Stage 1 trains a plain SG3 on full images; stage 2 ('patch') adds the scale branch and renders patch transforms.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TrainingMode>))]
public enum TrainingMode { Global, Patch }

/// <summary>The reference's normalisations of the zoom before the scale mapping (ScaleNormalizePositive, ScaleNormalizeZeroCentered).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ScaleMappingNorm>))]
public enum ScaleMappingNorm { Positive, ZeroCentered }

/// <summary>
/// How the zoom reaches the scale mapping. Parity: as the reference (normalised zoom through a mapping network whose input
/// 2nd-moment normalisation collapses a 1-D input to ≈ ±1, spec 5.2: inert). LogZoom: log-zoom scaled to [−1, 1] over
/// [min, max], fed without that normalisation, so the mapped scale really depends on the zoom (a flagged deviation).
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<ScaleConditioning>))]
public enum ScaleConditioning { Parity, LogZoom }

/// <summary>Every hyper-parameter of the anyres StyleGAN3 generator; defaults are the reference's (train.py + networks_stylegan3.py).</summary>
public sealed record GeneratorOptions
{
    public string Cfg { get; init; } = "stylegan3-t";
    public int ZDim { get; init; } = 512;
    public int CDim { get; init; } = 0;
    public int WDim { get; init; } = 512;
    public int ImgResolution { get; init; } = 256;
    public int ImgChannels { get; init; } = 3;

    // Mapping network.
    public int MappingLayers { get; init; } = 2;
    public double MappingLrMultiplier { get; init; } = 0.01;
    public double WAvgBeta { get; init; } = 0.998;

    // Synthesis schedule (spec 13.2).
    public int ChannelBase { get; init; } = 32768;
    public int ChannelMax { get; init; } = 512;
    public int NumLayers { get; init; } = 14;            // excluding the Fourier input and ToRGB
    public int NumCritical { get; init; } = 2;           // critically sampled layers at the end
    public double FirstCutoff { get; init; } = 2;
    public double FirstStopband { get; init; } = Math.Pow(2, 2.1);
    public double LastStopbandRel { get; init; } = Math.Pow(2, 0.3);
    public int MarginSize { get; init; } = 10;           // extra pixels around the image in every layer
    public double OutputScale { get; init; } = 0.25;
    public int NumFp16Res { get; init; } = 4;            // recorded per layer; this CPU port computes in float32

    // Synthesis layers.
    public int ConvKernel { get; init; } = 3;            // 1 for stylegan3-r
    public int FilterSize { get; init; } = 6;            // low-pass taps relative to the lower rate
    public int LreluUpsampling { get; init; } = 2;       // rate of the nonlinearity relative to the layer's rate
    public bool UseRadialFilters { get; init; } = false; // stylegan3-r: jinc down filters in non-critical layers
    public double? ConvClamp { get; init; } = 256;
    /// <summary>train.py's value for its default batch of 32 (<see cref="MagnitudeEmaBetaFor"/>).</summary>
    public double MagnitudeEmaBeta { get; init; } = MagnitudeEmaBetaFor(32);

    /// <summary>train.py: the magnitude EMAs have a half-life of 20k images, so β = 0.5^(batch / 20k) per iteration.</summary>
    public static double MagnitudeEmaBetaFor(int batch) => Math.Pow(0.5, batch / 20e3);

    // Any-resolution additions (spec 5.2).
    public TrainingMode TrainingMode { get; init; } = TrainingMode.Global;
    public int ScaleMappingMin { get; init; } = 1;
    public int ScaleMappingMax { get; init; } = 8;
    public ScaleMappingNorm ScaleMappingNorm { get; init; } = ScaleMappingNorm.Positive;
    public ScaleConditioning ScaleConditioning { get; init; } = ScaleConditioning.Parity;

    // 360° panoramas (spec 12): the reference's '360' in training_mode, SynthesisInput360 on a cylinder.
    public bool Panorama { get; init; } = false;
    public int Fov { get; init; } = 60;                  // degrees of the turn one frame spans

    [JsonIgnore] public int NumWs => NumLayers + 2;

    /// <summary>train.py's --cfg presets ("stylegan3-t" or "stylegan3-r") at an output size (power of two, 16..1024).</summary>
    public static GeneratorOptions Preset(string cfg, int resolution)
    {
        if (resolution < 16 || resolution > 1024 || (resolution & (resolution - 1)) != 0)
            throw new ArgumentException($"resolution must be a power of two from 16 to 1024, got {resolution}");
        return cfg switch
        {
            "stylegan3-t" => new GeneratorOptions { Cfg = cfg, ImgResolution = resolution },
            "stylegan3-r" => new GeneratorOptions { Cfg = cfg, ImgResolution = resolution, ConvKernel = 1, ChannelBase = 65536, ChannelMax = 1024, UseRadialFilters = true },
            _ => throw new ArgumentException($"unknown generator config '{cfg}' (expected stylegan3-t or stylegan3-r)"),
        };
    }

    /// <summary>A small stylegan3-t for tests, benchmarks and quick runs: channel_max 64 and 64-d latents.</summary>
    public static GeneratorOptions Tiny(int resolution) =>
        Preset("stylegan3-t", resolution) with { ZDim = 64, WDim = 64, ChannelMax = 64 };

    /// <summary>
    /// Options from the reference Generator's constructor keyword arguments (a snapshot's <c>_init_kwargs</c>, a fixture's
    /// constructor JSON). Absent ones take networks_stylegan3.py's defaults; an argument without a counterpart here, or a value
    /// this port cannot represent, throws AnyResException naming it, so no argument silently keeps a port default.
    /// </summary>
    public static GeneratorOptions FromReference(JsonObject a)
    {
        var o = new GeneratorOptions();
        var mapping = a["mapping_kwargs"] as JsonObject;
        var scale = a["scale_mapping_kwargs"] as JsonObject;
        var mode = (string?)a["training_mode"];
        if (mode is not (null or "global" or "patch" or "global-360"))
            throw new AnyResException($"Generator training_mode '{mode}' is not supported (global, patch and global-360 are)");
        ReferenceKwargs.Known(a, "Generator", "z_dim", "c_dim", "w_dim", "img_resolution", "img_channels", "mapping_kwargs", "training_mode", "scale_mapping_kwargs", "fov",
            "channel_base", "channel_max", "num_layers", "num_critical", "first_cutoff", "first_stopband", "last_stopband_rel", "margin_size",
            "output_scale", "num_fp16_res", "conv_kernel", "filter_size", "lrelu_upsampling", "use_radial_filters", "conv_clamp", "magnitude_ema_beta");
        ReferenceKwargs.Known(mapping, "Generator mapping_kwargs", "num_layers", "lr_multiplier", "w_avg_beta");
        ReferenceKwargs.Known(scale, "Generator scale_mapping_kwargs", "scale_mapping_min", "scale_mapping_max", "scale_mapping_norm");
        try
        {
            return o with
            {
                ZDim = (int)a["z_dim"]!, CDim = (int)a["c_dim"]!, WDim = (int)a["w_dim"]!,
                ImgResolution = (int)a["img_resolution"]!, ImgChannels = (int)a["img_channels"]!,
                MappingLayers = (int?)mapping?["num_layers"] ?? o.MappingLayers,
                MappingLrMultiplier = (double?)mapping?["lr_multiplier"] ?? o.MappingLrMultiplier,
                WAvgBeta = (double?)mapping?["w_avg_beta"] ?? o.WAvgBeta,
                // NVIDIA's Generator has no training_mode: a global model. The reference tests substrings ('patch' in mode).
                TrainingMode = mode == "patch" ? TrainingMode.Patch : TrainingMode.Global,
                Panorama = mode == "global-360",
                Fov = (int?)a["fov"] ?? o.Fov,
                ScaleMappingMin = ScaleBound(scale, "scale_mapping_min") ?? o.ScaleMappingMin,
                ScaleMappingMax = ScaleBound(scale, "scale_mapping_max") ?? o.ScaleMappingMax,
                ScaleMappingNorm = (string?)scale?["scale_mapping_norm"] switch
                {
                    null => o.ScaleMappingNorm,
                    "positive" => ScaleMappingNorm.Positive,
                    "zerocentered" => ScaleMappingNorm.ZeroCentered,
                    var other => throw new AnyResException($"scale_mapping_norm '{other}' is not one of the reference's (positive, zerocentered)"),
                },
                ChannelBase = (int?)a["channel_base"] ?? o.ChannelBase, ChannelMax = (int?)a["channel_max"] ?? o.ChannelMax,
                NumLayers = (int?)a["num_layers"] ?? o.NumLayers, NumCritical = (int?)a["num_critical"] ?? o.NumCritical,
                FirstCutoff = (double?)a["first_cutoff"] ?? o.FirstCutoff, FirstStopband = (double?)a["first_stopband"] ?? o.FirstStopband,
                LastStopbandRel = (double?)a["last_stopband_rel"] ?? o.LastStopbandRel, MarginSize = (int?)a["margin_size"] ?? o.MarginSize,
                OutputScale = (double?)a["output_scale"] ?? o.OutputScale, NumFp16Res = (int?)a["num_fp16_res"] ?? o.NumFp16Res,
                ConvKernel = (int?)a["conv_kernel"] ?? o.ConvKernel, FilterSize = (int?)a["filter_size"] ?? o.FilterSize,
                LreluUpsampling = (int?)a["lrelu_upsampling"] ?? o.LreluUpsampling, UseRadialFilters = (bool?)a["use_radial_filters"] ?? o.UseRadialFilters,
                ConvClamp = a.ContainsKey("conv_clamp") ? (double?)a["conv_clamp"] : o.ConvClamp,   // null = None: no clamping
                // SynthesisLayer's own default (0.999), not train.py's batch-dependent value that GeneratorOptions defaults to.
                MagnitudeEmaBeta = (double?)a["magnitude_ema_beta"] ?? 0.999,
            };
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new AnyResException($"Generator constructor arguments have a missing or mistyped value: {e.Message}", e);
        }
    }

    /// <summary>The zoom bounds are ints here (the reference's defaults are 1 and 8): a fractional one cannot be represented.</summary>
    public static int? ScaleBound(JsonNode? scale, string key)
    {
        if (scale?[key] is not JsonNode n) return null;
        var v = (double)n;
        return v == Math.Round(v) ? (int)v : throw new AnyResException($"{key} = {v}: GeneratorOptions holds the zoom bounds as integers");
    }

    static readonly JsonSerializerOptions Json = new() { WriteIndented = false };
    public string ToJson() => JsonSerializer.Serialize(this, Json);
    public static GeneratorOptions FromJson(string json) =>
        JsonSerializer.Deserialize<GeneratorOptions>(json, Json) ?? throw new JsonException("empty generator options");

    /// <summary>Throws on inconsistent options (called by the Generator constructor).</summary>
    public void Validate()
    {
        if (ScaleMappingMax <= ScaleMappingMin) throw new ArgumentException($"scale_mapping_max ({ScaleMappingMax}) must exceed scale_mapping_min ({ScaleMappingMin})");
        if (ScaleConditioning == ScaleConditioning.LogZoom && ScaleMappingMin <= 0) throw new ArgumentException("log-zoom scale conditioning needs scale_mapping_min > 0");
        if (NumLayers <= NumCritical) throw new ArgumentException("num_layers must exceed num_critical");
        if (Panorama && (Fov < 1 || Fov > 360)) throw new ArgumentException($"fov must be 1..360 degrees, got {Fov}");
    }
}

/// <summary>Checks of a reference constructor's keyword arguments shared by the generator and discriminator mappings.</summary>
internal static class ReferenceKwargs
{
    /// <summary>Throws naming every key of <paramref name="o"/> outside <paramref name="keys"/> (an option with no counterpart here).</summary>
    public static void Known(JsonObject? o, string what, params string[] keys)
    {
        var unknown = o?.Select(kv => kv.Key).Except(keys).ToList() ?? [];
        if (unknown.Count > 0) throw new AnyResException($"{what}: unsupported constructor option{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown)}");
    }
}
