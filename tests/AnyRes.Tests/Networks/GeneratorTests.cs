using System.Text.Json.Nodes;
using AnyRes.Networks;
using static TorchSharp.torch;
using Generator = AnyRes.Networks.Generator;

namespace AnyRes.Tests.Networks;

public class GeneratorTests
{
    const double Atol = 1e-4, Rtol = 1e-3;   // README: full generator

    /// <summary>
    /// GeneratorOptions from the reference's Generator constructor arguments. Absent ones take networks_stylegan3.py's
    /// defaults; a key without a counterpart here throws, so no argument silently keeps a port default.
    /// </summary>
    internal static GeneratorOptions Options(JsonObject a)
    {
        var o = new GeneratorOptions();
        var mapping = a["mapping_kwargs"] as JsonObject;
        var scale = a["scale_mapping_kwargs"] as JsonObject;
        Known(a, "Generator", "z_dim", "c_dim", "w_dim", "img_resolution", "img_channels", "mapping_kwargs", "training_mode", "scale_mapping_kwargs",
            "channel_base", "channel_max", "num_layers", "num_critical", "first_cutoff", "first_stopband", "last_stopband_rel", "margin_size",
            "output_scale", "num_fp16_res", "conv_kernel", "filter_size", "lrelu_upsampling", "use_radial_filters", "conv_clamp", "magnitude_ema_beta");
        Known(mapping, "mapping_kwargs", "num_layers", "lr_multiplier", "w_avg_beta");
        Known(scale, "scale_mapping_kwargs", "scale_mapping_min", "scale_mapping_max", "scale_mapping_norm");
        return o with
        {
            ZDim = (int)a["z_dim"]!, CDim = (int)a["c_dim"]!, WDim = (int)a["w_dim"]!,
            ImgResolution = (int)a["img_resolution"]!, ImgChannels = (int)a["img_channels"]!,
            MappingLayers = (int?)mapping?["num_layers"] ?? o.MappingLayers,
            MappingLrMultiplier = (double?)mapping?["lr_multiplier"] ?? o.MappingLrMultiplier,
            WAvgBeta = (double?)mapping?["w_avg_beta"] ?? o.WAvgBeta,
            TrainingMode = (string?)a["training_mode"] switch
            {
                null or "global" => TrainingMode.Global,
                "patch" => TrainingMode.Patch,
                var m => throw new NotSupportedException($"Generator: training_mode '{m}' has no GeneratorOptions counterpart"),
            },
            ScaleMappingMin = ScaleBound(scale, "scale_mapping_min") ?? o.ScaleMappingMin,
            ScaleMappingMax = ScaleBound(scale, "scale_mapping_max") ?? o.ScaleMappingMax,
            ScaleMappingNorm = (string?)scale?["scale_mapping_norm"] ?? o.ScaleMappingNorm,
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

    static void Known(JsonObject? o, string what, params string[] keys)
    {
        var unknown = o?.Select(kv => kv.Key).Except(keys).ToList() ?? [];
        if (unknown.Count > 0) throw new NotSupportedException($"{what}: no GeneratorOptions counterpart for {string.Join(", ", unknown)}");
    }

    /// <summary>The zoom bounds are ints in GeneratorOptions (the reference's defaults are 1 and 8): a fractional one cannot be represented.</summary>
    internal static int? ScaleBound(JsonNode? scale, string key)
    {
        if (scale?[key] is not JsonNode n) return null;
        var v = (double)n;
        return v == Math.Round(v) ? (int)v : throw new NotSupportedException($"{key} = {v}: GeneratorOptions holds the zoom bounds as integers");
    }

    /// <summary>With recompute, backward re-runs every synthesis layer (Ops/Recompute): the gradients must still be the reference's.</summary>
    [Theory, Trait("Category", "Parity")]
    [InlineData(false)]
    [InlineData(true)]
    public void TinyPatchGeneratorMatchesReference(bool recompute)
    {
        using var f = Fixture.Load("generator_tiny.safetensors");
        var options = Options(f.Args);
        using var g = new Generator(options);
        var state = f.State();
        Assert.Equal(state.Keys.OrderBy(k => k), g.state_dict().Keys.OrderBy(k => k));
        g.load_state_dict(state);
        g.eval();

        var batch = f["in.transform"].shape[0];
        var c = f.Has("in.c") ? f["in.c"] : options.CDim > 0 ? zeros(batch, options.CDim) : null;
        var z = f["in.z"].detach().requires_grad_(true);
        var img = g.forward(z, c, f["in.transform"], recompute: recompute);
        Close.Assert(img, f["out.img"], Atol, Rtol, "img");
        (img * f["in.loss_weight"]).sum().backward();
        GradientClose.Assert(z.grad!, f["grad.z"], Atol, Rtol, "grad z");
        var p = g.named_parameters().ToDictionary(kv => kv.name, kv => kv.parameter);
        foreach (var name in f.Names("grad.").Where(n => n != "z")) GradientClose.Assert(p[name].grad!, f["grad." + name], Atol, Rtol, "grad " + name);

        using var _ = no_grad();
        var ws = g.Mapping(f["in.z"], c);
        // Intermediates, where the set keeps them (aux.*): they say which branch a failure above starts in.
        if (f.Aux("ws") is { } expectedWs) Close.Assert(ws, expectedWs, 1e-5, 1e-4, "ws");
        if (f.Aux("scale_norm") is { } scaleNorm) Close.Assert(Generator.ScaleInput(Generator.Zoom(f["in.transform"], batch, CPU), options), scaleNorm, 1e-5, 1e-4, "scale norm");
        if (f.Aux("mapped_scale") is { } mappedScale) Close.Assert(g.MappedScale(f["in.transform"], batch, CPU, c)!, mappedScale, 1e-5, 1e-4, "mapped scale");
        Close.Assert(g.Synthesis(ws, f["in.transform"], c: c), f["out.img_scale_condition_wrapper"], Atol, Rtol, "scale_condition_wrapper");
        Close.Assert(g.forward(f["in.z"], c), f["out.img_identity_transform"], Atol, Rtol, "identity transform");

        // The teacher is the same network without the scale affine (a stage-1 global generator).
        using var teacher = new Generator(options with { TrainingMode = TrainingMode.Global });
        teacher.load_state_dict(state.Where(kv => !kv.Key.Contains("scale_")).ToDictionary(kv => kv.Key, kv => kv.Value));
        Close.Assert(teacher.forward(f["in.z"], c), f["out.img_teacher_mode"], Atol, Rtol, "teacher mode");
    }

    [Fact]
    public void StateDictKeysFollowTheReference()
    {
        using var g = new Generator(GeneratorOptions.Tiny(16) with { TrainingMode = TrainingMode.Patch });
        var keys = g.state_dict().Keys.ToHashSet();
        foreach (var k in new[] { "mapping.fc0.weight", "mapping.w_avg", "synthesis.input.freqs", "synthesis.input.affine.bias", "scale_mapping.fc1.bias",
                     "scale_mapping.w_avg", "synthesis.L0_36_64.up_filter", "synthesis.L0_36_64.scale_affine.weight", "synthesis.L14_16_3.magnitude_ema" })
            Assert.Contains(k, keys);
        Assert.DoesNotContain("synthesis.L14_16_3.up_filter", keys);
        using var global = new Generator(GeneratorOptions.Tiny(16));
        Assert.DoesNotContain(global.state_dict().Keys, k => k.Contains("scale"));
        Assert.False(global.HasScaleMapping);
    }

    [Fact]
    public void SameSeedGivesSameImagesAndTruncationPullsTowardsTheAverage()
    {
        manual_seed(11);
        using var g = new Generator(GeneratorOptions.Tiny(16) with { TrainingMode = TrainingMode.Patch });
        using var _ = no_grad();
        var z = randn(2, g.ZDim);
        var a = g.forward(z, null);
        Assert.Equal(new long[] { 2, 3, 16, 16 }, a.shape);
        Close.Assert(g.forward(z, null), a, 0, 0, "deterministic");
        g.forward(z, null, updateEmas: true);
        var ws = g.Mapping(z, null);
        var truncated = g.Mapping(z, null, truncationPsi: 0.5, truncationCutoff: 8);
        Close.Assert(truncated.narrow(1, 0, 8), g.mapping.w_avg.lerp(ws.narrow(1, 0, 8), 0.5), 1e-6, 1e-5, "truncated head");
        Close.Assert(truncated.narrow(1, 8, g.NumWs - 8), ws.narrow(1, 8, g.NumWs - 8), 0, 0, "untruncated tail");
    }
}
