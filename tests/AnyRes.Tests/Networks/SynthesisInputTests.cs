using AnyRes.Networks;
using static TorchSharp.torch;

namespace AnyRes.Tests.Networks;

[Trait("Category", "Parity")]
public class SynthesisInputTests
{
    const double Atol = 1e-5, Rtol = 1e-4;

    [Fact]
    public void MatchesReferenceWithPatchTransforms()
    {
        using var f = Fixture.Load("synthesis_input.safetensors");
        var a = f.Args;
        using var input = new SynthesisInput((int)a["w_dim"]!, (int)a["channels"]!, (int)a["size"]!, (double)a["sampling_rate"]!, (double)a["bandwidth"]!);
        input.load_state_dict(f.State());
        var w = f["in.w"].detach().requires_grad_(true);
        var x = input.forward(w, f["in.transform"]);
        Close.Assert(x, f["out.x"], Atol, Rtol, "x");
        (x * f["in.loss_weight"]).sum().backward();
        Close.Assert(w.grad!, f["grad.w"], Atol, Rtol, "grad w");
        var p = input.named_parameters().ToDictionary(kv => kv.name, kv => kv.parameter);
        foreach (var name in f.Names("grad.").Where(n => n != "w")) Close.Assert(p[name].grad!, f["grad." + name], Atol, Rtol, "grad " + name);
    }

    [Fact]
    public void NullTransformIsTheIdentity()
    {
        manual_seed(2);
        using var input = new SynthesisInput(8, 4, 20, 8, 2);
        using var _ = no_grad();
        var w = randn(3, 8);
        Close.Assert(input.forward(w, null), input.forward(w, eye(3).expand(3, 3, 3)), 0, 0, "identity");
    }
}
