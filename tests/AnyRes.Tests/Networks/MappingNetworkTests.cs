using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AnyRes.Networks;
using static TorchSharp.torch;

namespace AnyRes.Tests.Networks;

[Trait("Category", "Parity")]
public class MappingNetworkTests
{
    const double Atol = 1e-5, Rtol = 1e-4;

    internal static MappingNetwork Build(JsonNode a) => new(
        (int)a["z_dim"]!, (int)a["c_dim"]!, (int)a["w_dim"]!, (int)a["num_ws"]!, (int?)a["num_layers"] ?? 2,
        (double?)a["lr_multiplier"] ?? 0.01, (double?)a["w_avg_beta"] ?? 0.998);

    [Fact]
    public void UnconditionalMatchesReference()
    {
        using var f = Fixture.Load("mapping.safetensors");
        using var m = Build(f.Args);
        m.load_state_dict(f.State());
        var z = f["in.z"].detach().requires_grad_(true);
        var ws = m.forward(z, null);
        Close.Assert(ws, f["out.ws"], Atol, Rtol, "ws");
        (ws * f["in.loss_weight"]).sum().backward();
        Close.Assert(z.grad!, f["grad.z"], Atol, Rtol, "grad z");
        var p = m.named_parameters().ToDictionary(kv => kv.name, kv => kv.parameter);
        foreach (var name in f.Names("grad.").Where(n => n != "z")) Close.Assert(p[name].grad!, f["grad." + name], Atol, Rtol, "grad " + name);

        // Truncation settings are recorded in the fixture's description.
        var t = Regex.Match((string)f.Meta["description"]!, $@"truncation_psi\s*=\s*({Fixture.Number}),\s*truncation_cutoff\s*=\s*(None|[-+]?\d+)");
        Assert.True(t.Success, "truncation settings not found in the description");
        var psi = double.Parse(t.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        int? cutoff = t.Groups[2].Value == "None" ? null : int.Parse(t.Groups[2].Value);   // None: every ws is truncated
        using (no_grad())
        {
            var truncated = m.forward(f["in.z"], null, psi, cutoff);
            Close.Assert(truncated, f["out.ws_truncated"], Atol, Rtol, "truncated ws");
            m.forward(f["in.z"], null, updateEmas: true);
        }
        if (f.Aux("w_avg_after_update_emas") is { } wAvg) Close.Assert(m.w_avg, wAvg, Atol, Rtol, "w_avg after update");
    }

    [Fact]
    public void ConditionalMatchesReference()
    {
        using var f = Fixture.Load("mapping_cond.safetensors");
        using var m = Build(f.Args);
        m.load_state_dict(f.State());
        using var _ = no_grad();
        Close.Assert(m.forward(f["in.z"], f["in.c"]), f["out.ws"], Atol, Rtol, "conditional ws");
        Assert.Throws<ArgumentException>(() => m.forward(f["in.z"], null));
    }
}
