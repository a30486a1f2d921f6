using System.Text.Json;
using System.Text.Json.Nodes;
using AnyRes.Networks;
using static TorchSharp.torch;

namespace AnyRes.Tests.Networks;

[Trait("Category", "Parity")]
public class SynthesisLayerTests
{
    const double Atol = 1e-5, Rtol = 1e-4;
    internal static readonly JsonSerializerOptions Snake = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    internal static SynthesisLayerArgs Args(JsonNode a) => a.Deserialize<SynthesisLayerArgs>(Snake)!;

    [Theory]
    [InlineData("synthesis_layer_same.safetensors")]
    [InlineData("synthesis_layer_up.safetensors")]
    [InlineData("synthesis_layer_critical.safetensors")]
    [InlineData("synthesis_layer_torgb.safetensors")]
    public void MatchesReference(string file)
    {
        using var f = Fixture.Load(file);
        using var layer = new SynthesisLayer(Args(f.Args));
        // The designed filters are part of the state: recomputing them must reproduce the reference's buffers.
        foreach (var name in new[] { "up_filter", "down_filter" })
            if (f.Has("state." + name)) Close.Assert(layer.named_buffers().First(b => b.name == name).buffer, f["state." + name], Atol, Rtol, name);
        layer.load_state_dict(f.State());

        var x = f["in.x"].detach().requires_grad_(true);
        var w = f["in.w"].detach().requires_grad_(true);
        var scale = f["in.scale"].detach().requires_grad_(true);
        var y = layer.forward(x, w, scale);
        Close.Assert(y, f["out.y"], Atol, Rtol, file + " y");
        (y * f["in.loss_weight"]).sum().backward();
        var inputs = new Dictionary<string, Tensor> { ["x"] = x, ["w"] = w, ["scale"] = scale };
        var p = layer.named_parameters().ToDictionary(kv => kv.name, kv => (Tensor)kv.parameter);
        foreach (var name in f.Names("grad."))
            GradientClose.Assert((inputs.TryGetValue(name, out var t) ? t : p[name]).grad!, f["grad." + name], Atol, Rtol, $"{file} grad {name}");

        using (no_grad())
        {
            Close.Assert(layer.forward(f["in.x"], f["in.w"], f["in.scale"]), f["out.y"], Atol, Rtol, file + " y without autograd");
            // update_emas: magnitude_ema ← lerp(mean(x²), ema, β).
            var expected = f["in.x"].square().mean().lerp(f["state.magnitude_ema"], Args(f.Args).MagnitudeEmaBeta);
            layer.forward(f["in.x"], f["in.w"], f["in.scale"], updateEmas: true);
            Close.Assert(layer.magnitude_ema, expected, 1e-7, 1e-6, "magnitude ema");
        }
    }
}
