using System.Text.Json.Nodes;
using AnyRes.Ops;
using static TorchSharp.torch;

namespace AnyRes.Tests.Ops;

/// <summary>ops.safetensors and lowpass_filters.safetensors: the reference ops on CPU, arguments from the fixture metadata.</summary>
[Trait("Category", "Parity")]
public class OpsParityTests
{
    const double Atol = 1e-5, Rtol = 1e-4;

    static int[] Ints(JsonNode? n) => n!.AsArray().Select(v => (int)v!).ToArray();
    static Tensor? Filter(Fixture f, JsonNode? name) => name is null ? null : f[(string)name!];

    [Fact]
    public void FilteredLreluMatchesReference()
    {
        using var f = Fixture.Load("ops.safetensors");
        var a = f.Args["filtered_lrelu"]!;
        foreach (var (output, clamp) in new[] { ("out.filtered_lrelu", (double?)(double)a["clamp"]!), ("out.filtered_lrelu_noclamp", null) })
        {
            foreach (var grad in new[] { false, true })
            {
                using var mode = grad ? enable_grad() : no_grad();
                var x = grad ? f["in.x"].detach().requires_grad_(true) : f["in.x"];
                var y = FilteredLrelu.Apply(x, f["in.fu"], f["in.fd"], f["in.b"], up: (int)a["up"]!, down: (int)a["down"]!,
                    padding: Ints(a["padding"]), gain: (double)a["gain"]!, slope: (double)a["slope"]!, clamp: clamp);
                Close.Assert(y, f[output], Atol, Rtol, $"{output} (autograd {grad})");
            }
        }
    }

    [Theory]
    [InlineData("upfirdn2d_up2")]
    [InlineData("upfirdn2d_down2")]
    public void Upfirdn2dMatchesReference(string name)
    {
        using var f = Fixture.Load("ops.safetensors");
        var a = f.Args[name]!;
        var y = Upfirdn2d.Apply(f["in.x"], Filter(f, a["f"]), up: (int)a["up"]!, down: (int)a["down"]!, padding: Ints(a["padding"]),
            flipFilter: (bool?)a["flip_filter"] ?? false, gain: (double)a["gain"]!);
        Close.Assert(y, f["out." + name], Atol, Rtol, name);
    }

    [Fact]
    public void BiasActMatchesReference()
    {
        using var f = Fixture.Load("ops.safetensors");
        var a = f.Args["bias_act_lrelu"]!;
        var y = BiasAct.Apply(f["in.x"], Filter(f, a["b"]), act: (string)a["act"]!, alpha: (double)a["alpha"]!, gain: (double)a["gain"]!, clamp: (double)a["clamp"]!);
        Close.Assert(y, f["out.bias_act_lrelu"], Atol, Rtol, "bias_act");
    }

    [Fact]
    public void LowpassFiltersMatchScipy()
    {
        using var f = Fixture.Load("lowpass_filters.safetensors");
        foreach (var s in f.Args["settings"]!.AsArray())
        {
            int i = (int)s!["index"]!;
            var filter = FilterDesign.DesignLowpass((int)s["numtaps"]!, (double)s["cutoff"]!, (double)s["width"]!, (double)s["fs"]!, (bool)s["radial"]!);
            if ((bool)s["returns_none"]!) { Assert.Null(filter); continue; }
            Assert.NotNull(filter);
            Close.Assert(filter!, f[$"out.filter_{i}"], 1e-7, 1e-5, $"filter {i}");
            if (f.Has($"aux.kaiser_window_{i}"))
            {
                var beta = FilterDesign.KaiserBeta(FilterDesign.KaiserAtten((int)s["numtaps"]!, (double)s["width"]! / ((double)s["fs"]! / 2)));
                Assert.Equal((double)s["kaiser_beta"]!, beta, 9);
                Close.Assert(tensor(FilterDesign.Kaiser((int)s["numtaps"]!, beta).Select(v => (float)v).ToArray()), f[$"aux.kaiser_window_{i}"], 1e-7, 1e-6, $"kaiser window {i}");
            }
        }
    }
}
