using AnyRes.Networks;
using static TorchSharp.torch;
using Generator = AnyRes.Networks.Generator;

namespace AnyRes.Tests.Networks;

/// <summary>The scale branch (spec 5.2): the reference's inert normalisations, and the working log-zoom mode.</summary>
public class MappingScaleTests
{
    const double Atol = 1e-5, Rtol = 1e-4;

    [Fact, Trait("Category", "Parity")]
    public void ScaleMappingMatchesReference()
    {
        using var f = Fixture.Load("scale_mapping.safetensors");
        var norm = f.Args["scale_norm"]!;
        int Bound(string key) => GeneratorOptions.ScaleBound(norm, key) ?? throw new KeyNotFoundException($"{f.Name}: no scale_norm.{key}");
        using var m = MappingNetworkTests.Build(f.Args["scale_mapping"]!);
        m.load_state_dict(f.State());
        var zoom = Generator.Zoom(f["in.transform"], f["in.transform"].shape[0], CPU);
        Close.Assert(zoom, f["out.scale"], Atol, Rtol, "zoom");
        foreach (var (kind, normalisation) in new[] { ("positive", ScaleMappingNorm.Positive), ("zerocentered", ScaleMappingNorm.ZeroCentered) })
        {
            var o = new GeneratorOptions { ScaleMappingMin = Bound("scale_mapping_min"), ScaleMappingMax = Bound("scale_mapping_max"), ScaleMappingNorm = normalisation };
            var s = Generator.ScaleInput(zoom, o).detach().requires_grad_(true);
            Close.Assert(s, f[$"out.scale_norm_{kind}"], Atol, Rtol, "scale norm " + kind);
            var mapped = m.forward(s, null);
            Close.Assert(mapped, f[$"out.mapped_scale_{kind}"], Atol, Rtol, "mapped scale " + kind);
            if (kind != "positive") continue;
            (mapped * f["in.loss_weight"]).sum().backward();
            // d/dx x/√(x² + 1e-8) is below float32 resolution: the stored values are rounding artefacts (spec 5.2), so only
            // "≈ 0 next to the O(0.1) parameter gradients" is comparable.
            Assert.True(s.grad!.abs().max().item<float>() < 1e-3 && f["grad.scale_norm_positive"].abs().max().item<float>() < 1e-3, "scale-norm gradient not ≈ 0");
            var p = m.named_parameters().ToDictionary(kv => kv.name, kv => kv.parameter);
            foreach (var name in f.Names("grad.").Where(n => !n.StartsWith("scale_norm_")))   // scale_norm_*: the input, checked above
                Close.Assert(p[name].grad!, f["grad." + name], Atol, Rtol, "grad " + name);
        }
    }

    static Tensor MappedScales(GeneratorOptions o)
    {
        manual_seed(0);
        using var g = new Generator(o);
        var zooms = new[] { 1.0, 2.0, 4.0, 8.0 };
        var transforms = stack(zooms.Select(k => diag(tensor(new[] { 1 / (float)k, 1 / (float)k, 1f }))).ToArray());
        using var _ = no_grad();
        return g.MappedScale(transforms, zooms.Length, CPU)!.select(1, 0);   // [4 zooms, w_dim]
    }

    static double MinPairwiseRelativeDistance(Tensor v)
    {
        double min = double.MaxValue;
        for (int i = 0; i < v.shape[0]; i++)
            for (int j = i + 1; j < v.shape[0]; j++)
                min = Math.Min(min, ((v[i] - v[j]).norm() / v[j].norm()).item<float>());
        return min;
    }

    /// <summary>Parity mode collapses zoom 1..8 onto one vector; log-zoom keeps them clearly apart.</summary>
    [Fact]
    public void LogZoomSeparatesZoomsWhereParityDoesNot()
    {
        var baseOptions = GeneratorOptions.Tiny(16) with { TrainingMode = TrainingMode.Patch };
        var parity = MappedScales(baseOptions);
        var logZoom = MappedScales(baseOptions with { ScaleConditioning = ScaleConditioning.LogZoom });
        Assert.True(MinPairwiseRelativeDistance(logZoom) > 0.05, $"log-zoom mapped scales too close: {MinPairwiseRelativeDistance(logZoom)}");
        var parityMax = (parity - parity[0]).norm(1).max().item<float>() / parity[0].norm().item<float>();
        Assert.True(parityMax < 1e-4, $"parity mapped scales differ by {parityMax}");
    }

    [Fact]
    public void ScaleConditioningRoundTripsThroughJson()
    {
        var o = GeneratorOptions.Preset("stylegan3-r", 64) with { TrainingMode = TrainingMode.Patch, ScaleConditioning = ScaleConditioning.LogZoom };
        var json = o.ToJson();
        Assert.Contains("\"LogZoom\"", json);
        Assert.Equal(o, GeneratorOptions.FromJson(json));
    }
}
