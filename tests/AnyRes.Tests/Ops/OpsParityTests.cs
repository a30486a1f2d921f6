using System.Text.Json.Nodes;
using AnyRes.Ops;
using static TorchSharp.torch;

namespace AnyRes.Tests.Ops;

/// <summary>ops.safetensors and lowpass_filters.safetensors: the reference ops on CPU, arguments from the fixture metadata.</summary>
[Trait("Category", "Parity")]
public class OpsParityTests
{
    const double Atol = 1e-5, Rtol = 1e-4;

    /// <summary>Padding as the reference takes it: absent (0), one number, or a list.</summary>
    static int[]? Ints(JsonNode? n) => n switch
    {
        null => null,
        JsonArray list => list.Select(v => (int)v!).ToArray(),
        _ => [(int)n],
    };
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
                // Absent arguments take filtered_lrelu's defaults.
                var y = FilteredLrelu.Apply(x, f["in.fu"], f["in.fd"], f["in.b"], up: (int?)a["up"] ?? 1, down: (int?)a["down"] ?? 1,
                    padding: Ints(a["padding"]), gain: (double?)a["gain"] ?? Math.Sqrt(2), slope: (double?)a["slope"] ?? 0.2, clamp: clamp,
                    flipFilter: (bool?)a["flip_filter"] ?? false);
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
        // Absent arguments take upfirdn2d's defaults (up=1, down=1, padding=0, flip_filter=False, gain=1).
        var y = Upfirdn2d.Apply(f["in.x"], Filter(f, a["f"]), up: (int?)a["up"] ?? 1, down: (int?)a["down"] ?? 1, padding: Ints(a["padding"]),
            flipFilter: (bool?)a["flip_filter"] ?? false, gain: (double?)a["gain"] ?? 1);
        Close.Assert(y, f["out." + name], Atol, Rtol, name);
    }

    [Fact]
    public void BiasActMatchesReference()
    {
        using var f = Fixture.Load("ops.safetensors");
        var a = f.Args["bias_act_lrelu"]!;
        // None or absent: bias_act's defaults (alpha and gain of the activation, no clamp), which null selects here too.
        var y = BiasAct.Apply(f["in.x"], Filter(f, a["b"]), act: (string?)a["act"] ?? "linear", alpha: (double?)a["alpha"], gain: (double?)a["gain"],
            clamp: (double?)a["clamp"]);
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
            Close.Assert(filter!, f[$"out.filter_{i}"], Atol, Rtol, $"filter {i}");
            if (f.Aux($"kaiser_window_{i}") is { } window)
            {
                var beta = FilterDesign.KaiserBeta(FilterDesign.KaiserAtten((int)s["numtaps"]!, (double)s["width"]! / ((double)s["fs"]! / 2)));
                Assert.Equal((double)s["kaiser_beta"]!, beta, 9);
                Close.Assert(tensor(FilterDesign.Kaiser((int)s["numtaps"]!, beta).Select(v => (float)v).ToArray()), window, Atol, Rtol, $"kaiser window {i}");
            }
        }
    }
}
