using System.Text.Json;
using AnyRes.Core;
using AnyRes.Data;
using AnyRes.Networks;
using TorchSharp;
using static TorchSharp.torch;

using Generator = AnyRes.Networks.Generator;

namespace AnyRes.Training;

/// <summary>
/// The networks of a run: trainable G and D, G_ema, and in stage 2 the frozen teacher (spec §3). Stage 1 builds them from the
/// options; stage 2 initialises the patch generator from a stage-1 (or converted official SG3) checkpoint by parameter name.
/// </summary>
public sealed class TrainingNetworks : IDisposable
{
    public required Generator G { get; init; }
    public required Generator G_ema { get; init; }
    public required Discriminator D { get; init; }
    public Generator? Teacher { get; init; }

    /// <param name="classes">Number of classes of a conditional run (--cond), 0 otherwise.</param>
    public static GeneratorOptions GeneratorOptionsFor(TrainingOptions o, int classes = 0)
    {
        int res = o.Resolution;
        var g = o.TinyNetworks ? GeneratorOptions.Tiny(res) : GeneratorOptions.Preset(o.Cfg, res);
        int widen = o.Cfg == "stylegan3-r" ? 2 : 1;   // train.py doubles G's capacity for stylegan3-r
        g = g with
        {
            CDim = classes, ChannelBase = o.Cbase * widen, ChannelMax = o.Cmax * widen, MappingLayers = o.MappingDepth,
            MagnitudeEmaBeta = o.MagnitudeEmaBeta, ConvClamp = o.Fp32 ? null : g.ConvClamp, NumFp16Res = o.Fp32 ? 0 : g.NumFp16Res,
            Panorama = o.Panorama, Fov = o.Fov,
        };
        if (o.ZDim is { } z) g = g with { ZDim = z, WDim = z };
        return g;
    }

    public static DiscriminatorOptions DiscriminatorOptionsFor(TrainingOptions o, int classes = 0)
    {
        var d = o.TinyNetworks ? DiscriminatorOptions.Tiny(o.Resolution) : DiscriminatorOptions.For(o.Resolution);
        return d with
        {
            CDim = classes,   // the projection discriminator (cmap) when conditional
            ChannelBase = o.Cbase, ChannelMax = o.Cmax, MbstdGroupSize = o.MbstdGroup, FreezeLayers = o.Freezed,
            ConvClamp = o.Fp32 ? null : d.ConvClamp,
        };
    }

    /// <summary>Stage 1: fresh networks from the seed; G_ema a copy of G.</summary>
    public static TrainingNetworks Fresh(TrainingOptions o, Device device, int classes = 0)
    {
        torch.manual_seed(o.Seed);
        var G = new Generator(GeneratorOptionsFor(o, classes));
        var D = new Discriminator(DiscriminatorOptionsFor(o, classes));
        var G_ema = new Generator(G.Options);
        CopyByName(G, G_ema);
        return Prepare(new TrainingNetworks { G = G, G_ema = G_ema, D = D }, device, o.Recompute);
    }

    /// <summary>
    /// Stage 2 (spec §3): the student G gets the stage-1 G, G_ema the stage-1 G_ema, D the stage-1 D, the teacher is the
    /// stage-1 G_ema itself (no scale branch, so exactly the stage-1 function). Parameters the checkpoint lacks (the scale
    /// branch, every scale affine) keep one random initialisation shared by G and G_ema.
    /// </summary>
    /// <param name="classes">The class names of a conditional run's data (null: unconditional); the teacher must have the same.</param>
    public static TrainingNetworks FromTeacher(TrainingOptions o, Device device, Action<string> log, IReadOnlyList<string>? classes = null)
    {
        var path = o.Teacher ?? throw new AnyResException("patch training needs --teacher (a stage-1 or converted SG3 checkpoint)");
        var stage1 = NetworkCheckpoint.Load(path, torch.CPU);
        var teacher = stage1.G_ema ?? throw AnyResException.ForFile(path, "has no G_ema to use as the teacher");
        if (teacher.HasScaleMapping) throw AnyResException.ForFile(path, "is a patch (stage-2) generator; the teacher must be a stage-1 model");
        if (teacher.ImgResolution != o.Resolution)
            throw AnyResException.ForFile(path, $"has resolution {teacher.ImgResolution}, the run uses {o.Resolution} (--g-size)");
        if (teacher.CDim != (classes?.Count ?? 0))
            throw AnyResException.ForFile(path, $"is conditional on {teacher.CDim} classes, the data has {classes?.Count ?? 0} (--cond needs a conditional teacher and labelled data)");
        if (classes is not null && stage1.Metadata.TryGetValue(ClassLabels.MetadataKey, out var names) && !ClassLabels.ParseNames(names, path).SequenceEqual(classes))
            throw AnyResException.ForFile(path, $"was trained on classes {names}, the data has {ClassLabels.NamesJson(classes)}");
        if (o.Panorama && !teacher.Options.Panorama)
            throw AnyResException.ForFile(path, "is not a panorama model: --panorama in stage 2 needs a panorama teacher (stage 1 with --panorama)");
        if (teacher.Options.Panorama) log($"panorama teacher ({teacher.Options.Fov}° per frame): patch-360 training, patches on the cylinder");
        var defaults = new GeneratorOptions();
        var gOptions = teacher.Options with
        {
            TrainingMode = Networks.TrainingMode.Patch,
            ScaleMappingMin = o.ScaleMappingMin ?? defaults.ScaleMappingMin,
            ScaleMappingMax = o.ScaleMappingMax ?? defaults.ScaleMappingMax,
            ScaleMappingNorm = o.ScaleMappingNorm,
            ScaleConditioning = o.ScaleConditioning,
            MagnitudeEmaBeta = o.MagnitudeEmaBeta,
        };
        torch.manual_seed(o.Seed);
        var G = new Generator(gOptions);
        var G_ema = new Generator(gOptions);
        CopyByName(G, G_ema);
        var D = stage1.D ?? new Discriminator(DiscriminatorOptionsFor(o, teacher.CDim));
        if (stage1.D is null) log($"warning: {path} has no D; the discriminator starts from scratch");
        int matched = CopyByName(stage1.G ?? teacher, G);
        CopyByName(teacher, G_ema);
        log($"student initialised from {path}: {matched} of {G.state_dict().Count} tensors matched by name (the rest: the new scale branch)");
        stage1.G?.Dispose();
        return Prepare(new TrainingNetworks { G = G, G_ema = G_ema, D = D, Teacher = teacher }, device, o.Recompute);
    }

    /// <summary>
    /// Moves the networks to the device; train/eval modes; every parameter frozen until its phase enables it; G's synthesis
    /// recomputes its layers in backward when the options say so.
    /// </summary>
    public static TrainingNetworks Prepare(TrainingNetworks n, Device device, bool recompute)
    {
        n.G.synthesis.RecomputeInBackward = recompute;
        n.G.to(device).train();
        n.D.to(device).train();
        n.G_ema.to(device).eval();
        SetRequiresGrad(n.G, false);
        SetRequiresGrad(n.D, false);
        SetRequiresGrad(n.G_ema, false);
        if (n.Teacher is { } t)
        {
            t.to(device).eval();
            SetRequiresGrad(t, false);
        }
        return n;
    }

    public static void SetRequiresGrad(nn.Module module, bool value)
    {
        foreach (var p in module.parameters()) p.requires_grad = value;
    }

    /// <summary><c>misc.copy_params_and_buffers(src, dst, require_all=False)</c>: every state entry of the same name and shape. Returns how many.</summary>
    public static int CopyByName(nn.Module src, nn.Module dst)
    {
        var source = src.state_dict();
        int copied = 0;
        using var noGrad = torch.no_grad();
        foreach (var (name, tensor) in dst.state_dict())
        {
            if (!source.TryGetValue(name, out var s) || !s.shape.SequenceEqual(tensor.shape)) continue;
            tensor.copy_(s);
            copied++;
        }
        return copied;
    }

    public static string OptionsJson(Generator g) => JsonSerializer.Serialize(g.Options, NetworkCheckpoint.Json);
    public static string OptionsJson(Discriminator d) => JsonSerializer.Serialize(d.Options, NetworkCheckpoint.Json);

    public void Dispose()
    {
        G.Dispose();
        G_ema.Dispose();
        D.Dispose();
        Teacher?.Dispose();
    }
}
