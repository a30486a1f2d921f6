using System.Text.Json;
using System.Text.Json.Serialization;
using AnyRes.Core;
using AnyRes.Networks;

namespace AnyRes.Training;


/// <summary>How the teacher loss compares (spec §6.3): the student patch warped into the teacher's frame, or the reverse.</summary>
public enum TeacherMode { Inverse, Forward }

/// <summary>
/// Every flag of the reference's <c>train.py</c> that <c>train.sh</c> uses (spec §6.6), at train.py's default, plus the port's
/// own (keep, lpips, checkpoint cadence in iterations). JSON names are the reference's flag names, so
/// <c>training_options.json</c> reads like the reference's. <see cref="Preset"/> applies the <c>train.sh</c> values ("paper"),
/// a CPU run of minutes ("tiny") or a provisional CPU recipe of hours ("cpu").
/// </summary>
public sealed record TrainingOptions
{
    public TrainingMode TrainingMode { get; init; } = TrainingMode.Global;
    public string Cfg { get; init; } = "stylegan3-t";
    public string? Data { get; init; }
    public string? DataHr { get; init; }
    public string? Teacher { get; init; }
    public string Outdir { get; init; } = "training-runs";
    public string? Desc { get; init; }

    public int Gpus { get; init; } = 1;                  // ranks simulated in one process: gradients averaged over them
    public int Batch { get; init; } = 32;                // total batch per iteration
    public int? BatchGpu { get; init; }                  // micro-batch per pass; default batch / gpus
    public double Gamma { get; init; } = 2;              // R1 weight (train.py requires it; 2 for 256²)
    public bool Cond { get; init; } = false;             // class labels from dataset.json or class folders (ClassLabels)
    public bool ClassBalanced { get; init; } = false;    // the port's own: every class equally often in reals and fakes
    public bool Mirror { get; init; } = false;           // x-flips of both datasets
    public string Aug { get; init; } = "ada";            // only "noaug" is implemented (train.sh uses it)
    public double P { get; init; } = 0.2;
    public double Target { get; init; } = 0.6;
    public int Freezed { get; init; } = 0;
    public int Cbase { get; init; } = 32768;
    public int Cmax { get; init; } = 512;
    public double? Glr { get; init; }                    // default 0.0025 (SG3)
    public double Dlr { get; init; } = 0.002;
    public int? MapDepth { get; init; }                  // default 2 (SG3)
    public int MbstdGroup { get; init; } = 4;
    public string Metrics { get; init; } = "fid50k_full"; // not computed during training by this port (use `anyres metrics`)
    public double Kimg { get; init; } = 25000;           // total length in thousands of real images (patches and LR alike)
    public double Tick { get; init; } = 4;               // kimg per progress tick
    public int Snap { get; init; } = 50;                 // ticks per snapshot
    public int Seed { get; init; } = 0;
    public bool Fp32 { get; init; } = false;             // this port computes in float32 regardless
    public bool Nobench { get; init; } = false;
    public int Workers { get; init; } = 3;

    public int? DataResolution { get; init; }
    public bool RandomCrop { get; init; } = false;
    public int? DataMaxSize { get; init; }
    public int? GSize { get; init; }

    public double TeacherLambda { get; init; } = 1.0;
    public TeacherMode TeacherMode { get; init; } = TeacherMode.Forward;   // train.sh uses inverse
    public double ScaleAnneal { get; init; } = -1;
    public double? ScaleMin { get; init; }
    public double ScaleMax { get; init; } = 1.0;
    public double BaseProbability { get; init; } = 0.5;     // probability of an LR batch, as documented (spec §4.5)
    public bool PatchCrop { get; init; } = false;
    public int? DataHrMaxSize { get; init; }
    public int? ScaleMappingMin { get; init; }
    public int? ScaleMappingMax { get; init; }
    public ScaleMappingNorm ScaleMappingNorm { get; init; } = ScaleMappingNorm.Positive;
    /// <summary>How stage 2's scale branch sees the zoom: as the reference (inert) or log-zoom (the ablation of issue 16).</summary>
    public ScaleConditioning ScaleConditioning { get; init; } = ScaleConditioning.Parity;

    public bool Panorama { get; init; } = false;         // the reference's --training_mode=global-360 (stage 1); stage 2 follows its teacher
    public int Fov { get; init; } = 60;                  // degrees of the turn one frame spans (panoramas)

    // The port's own.
    public int Keep { get; init; } = 0;                  // network snapshots kept (0 = all)
    public string? Lpips { get; init; }                  // LPIPS-AlexNet safetensors; default: the ResNet18 distance
    public bool TinyNetworks { get; init; } = false;     // GeneratorOptions.Tiny / DiscriminatorOptions.Tiny at Cbase/Cmax
    public int? ZDim { get; init; }                      // latent width override (tiny runs)
    public bool Recompute { get; init; } = true;         // G's backward recomputes each synthesis layer instead of storing it
    public double? Ema { get; init; }                    // G EMA half-life in kimg; default batch·10/32 as train.py

    [JsonIgnore] public int BatchPerPass => BatchGpu ?? Batch / Gpus;
    [JsonIgnore] public double GLearningRate => Glr ?? 0.0025;
    [JsonIgnore] public int MappingDepth => MapDepth ?? 2;
    [JsonIgnore] public int Resolution => GSize ?? DataResolution ?? 256;
    [JsonIgnore] public double EmaKimg => Ema ?? Batch * 10 / 32.0;   // G EMA half-life
    [JsonIgnore] public double? EmaRampup => Teacher is null ? 0.05 : null;   // no ramp-up when fine-tuning from a teacher
    [JsonIgnore] public double MagnitudeEmaBeta => GeneratorOptions.MagnitudeEmaBetaFor(Batch);

    public const int DRegInterval = 16;                  // lazy R1

    /// <summary>The <c>train.sh</c> command lines (stage 1 and 2 for birds), a CPU run of minutes ("tiny") or of hours ("cpu").</summary>
    public static TrainingOptions Preset(string name, TrainingMode stage) => name switch
    {
        "paper" => new TrainingOptions
        {
            TrainingMode = stage, Cfg = "stylegan3-t", Gpus = 4, Batch = 32, Gamma = 2, Mirror = true, Aug = "noaug", Kimg = 25000,
            BatchGpu = 4, GSize = 256, DataResolution = 256, RandomCrop = true,
            Metrics = stage == TrainingMode.Patch ? "none" : "fid50k_full",
            TeacherLambda = stage == TrainingMode.Patch ? 5.0 : 1.0, TeacherMode = stage == TrainingMode.Patch ? TeacherMode.Inverse : TeacherMode.Forward,
            ScaleMax = stage == TrainingMode.Patch ? 0.5 : 1.0, ScaleMappingMin = 1, ScaleMappingMax = 8, PatchCrop = true,
            Outdir = stage == TrainingMode.Patch ? "training-runs/patch" : "training-runs/global",
        },
        "tiny" => new TrainingOptions
        {
            TrainingMode = stage, Cfg = "stylegan3-t", Gpus = 1, Batch = 4, BatchGpu = 4, Gamma = 0.5, Mirror = true, Aug = "noaug",
            Kimg = 2, Tick = 0.2, Snap = 5, Cbase = 1024, Cmax = 32, TinyNetworks = true, ZDim = 32, Workers = 1,
            GSize = 64, DataResolution = 64, RandomCrop = true, Metrics = "none",
            TeacherLambda = 5.0, TeacherMode = TeacherMode.Inverse, ScaleMax = 0.5, ScaleMappingMin = 1, ScaleMappingMax = 8, PatchCrop = true,
            Outdir = "runs", Keep = 3,
        },
        // PROVISIONAL until bench/recipe.md has measured runs: a reasoned starting point for learning texture on 2 CPU cores
        // in hours (bench/recipe.md says why each value). p = 64 keeps a stage-2 iteration near a few seconds; channels 48
        // (1.5× tiny) for texture capacity at ~2× tiny's cost; batch 4 because at a fixed wall time more iterations beat a
        // bigger batch on a CPU (and the minibatch-std group is 4); γ = 0.2 is StyleGAN2's heuristic 0.0002·p²/batch; the EMA
        // half-life of 1 kimg lets G_ema follow G in runs of ~10–30 kimg (train.py's batch·10/32 would be 1.25).
        "cpu" => new TrainingOptions
        {
            TrainingMode = stage, Cfg = "stylegan3-t", Gpus = 1, Batch = 4, BatchGpu = 4, Gamma = 0.2, Mirror = true, Aug = "noaug",
            Kimg = 50, Tick = 0.5, Snap = 4, Cbase = 2048, Cmax = 48, TinyNetworks = true, ZDim = 64, Workers = 1, Ema = 1,
            GSize = 64, DataResolution = 64, RandomCrop = true, Metrics = "none",
            TeacherLambda = 5.0, TeacherMode = TeacherMode.Inverse, ScaleMax = 0.5, ScaleMappingMin = 1, ScaleMappingMax = 8, PatchCrop = true,
            Outdir = "runs", Keep = 3,
        },
        _ => throw new AnyResException($"--preset {name}: expected 'paper', 'tiny' or 'cpu'"),
    };

    /// <summary>Rejects combinations the reference rejects, and features this port does not implement, with one line each.</summary>
    public void Validate()
    {
        if (Cfg is not ("stylegan3-t" or "stylegan3-r")) throw new AnyResException($"--cfg {Cfg}: expected stylegan3-t or stylegan3-r");
        if (Data is null) throw new AnyResException("--data is required");
        if (TrainingMode == TrainingMode.Patch && DataHr is null) throw new AnyResException("patch training needs --data-hr");
        if (Aug != "noaug") throw new AnyResException($"--aug {Aug}: only noaug is implemented (train.sh uses --aug=noaug)");
        if (ClassBalanced && !Cond) throw new AnyResException("--class-balanced needs --cond");
        if (ScaleAnneal != -1) throw new AnyResException("--scale-anneal: annealing is disabled in the reference (must be -1)");
        if (Gpus < 1) throw new AnyResException($"--gpus {Gpus}: expected at least 1");
        if (Cbase < 1 || Cmax < 1 || ZDim is < 1) throw new AnyResException("--cbase, --cmax and --z-dim must be at least 1");
        if (!(Gamma >= 0) || !(Dlr > 0) || (Glr is { } glr && !(glr > 0))) throw new AnyResException("--gamma must be at least 0, --glr and --dlr positive");
        if (Keep < 0) throw new AnyResException($"--keep {Keep}: expected 0 (keep all) or more");
        if (Batch % Gpus != 0) throw new AnyResException("--batch must be a multiple of --gpus");
        if (Batch % (Gpus * BatchPerPass) != 0) throw new AnyResException("--batch must be a multiple of --gpus times --batch-gpu");
        if (BatchPerPass < MbstdGroup) throw new AnyResException("--batch-gpu cannot be smaller than --mbstd-group");
        if (!(Kimg > 0) || !(Tick > 0) || Snap < 1)
            throw new AnyResException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"--kimg {Kimg}, --tick {Tick}, --snap {Snap}: --kimg and --tick must be positive and --snap at least 1"));
        if (Ema is { } ema && !(ema > 0)) throw new AnyResException($"--ema {ema}: the EMA half-life must be positive (kimg)");
        if (ScaleConditioning == ScaleConditioning.LogZoom && ScaleMappingMin is <= 0) throw new AnyResException("--scale-conditioning log-zoom needs --scale-mapping-min > 0");
        if (Panorama && (Fov < 1 || Fov > 360)) throw new AnyResException($"--fov {Fov}: must be 1..360 degrees");
        if (GSize is { } g && DataResolution is { } d && g != d) throw new AnyResException($"--g-size {g} must equal --data-resolution {d}");
    }

    /// <summary>Reference-style run name: <c>{mode}-{data}-{size}-batch{B}-gamma{γ}[-desc]</c> (the caller prefixes the run number).</summary>
    public string RunDescription()
    {
        var data = Path.GetFileNameWithoutExtension(Path.TrimEndingDirectorySeparator(Data ?? "data"));
        var desc = $"{(TrainingMode == TrainingMode.Patch ? "patch" : "global")}-{data}-{Resolution}-batch{Batch}-gamma{Gamma.ToString("g", System.Globalization.CultureInfo.InvariantCulture)}";
        return Desc is null ? desc : $"{desc}-{Desc}";
    }

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static TrainingOptions FromJson(string json, string nameForErrors)
    {
        try { return JsonSerializer.Deserialize<TrainingOptions>(json, Json) ?? throw new JsonException("empty"); }
        catch (JsonException e) { throw AnyResException.ForFile(nameForErrors, $"not a training options file ({e.Message})", e); }
    }
}
