using System.Text.Json.Nodes;
using AnyRes.Networks;
using static TorchSharp.torch;
using Generator = AnyRes.Networks.Generator;

namespace AnyRes.Tests.Networks;

public class GeneratorTests
{
    const double Atol = 1e-4, Rtol = 1e-3;   // README: full generator

    /// <summary>With recompute, backward re-runs every synthesis layer (Ops/Recompute): the gradients must still be the reference's.</summary>
    [Theory, Trait("Category", "Parity")]
    [InlineData(false)]
    [InlineData(true)]
    public void TinyPatchGeneratorMatchesReference(bool recompute)
    {
        using var f = Fixture.Load("generator_tiny.safetensors");
        var options = GeneratorOptions.FromReference(f.Args);
        using var g = new Generator(options);
        var state = f.State();
        Assert.Equal(state.Keys.OrderBy(k => k), g.state_dict().Keys.OrderBy(k => k));
        g.load_state_dict(state);
        g.eval();

        var batch = f["in.transform"].shape[0];
        var c = f.Has("in.c") ? f["in.c"] : options.CDim > 0 ? zeros(batch, options.CDim) : null;
        var z = f["in.z"].detach().requires_grad_(true);
        g.synthesis.RecomputeInBackward = recompute;
        var img = g.forward(z, c, f["in.transform"]);
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
