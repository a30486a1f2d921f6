using AnyRes.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Tests.Networks;

[Trait("Category", "Parity")]
public class SynthesisInputTests
{
    const double Atol = 1e-5, Rtol = 1e-4;

    /// <summary>The module under the fixture's arguments and state, run in <paramref name="dtype"/>: x and every gradient.</summary>
    static Dictionary<string, Tensor> Run(Fixture f, ScalarType dtype)
    {
        var a = f.Args;
        var input = new SynthesisInput((int)a["w_dim"]!, (int)a["channels"]!, (int)a["size"]!, (double)a["sampling_rate"]!, (double)a["bandwidth"]!);
        input.load_state_dict(f.State());
        input.to(dtype);
        var w = f["in.w"].to(dtype).detach().requires_grad_(true);
        var x = input.forward(w, f["in.transform"].to(dtype));
        (x * f["in.loss_weight"].to(dtype)).sum().backward();
        var result = new Dictionary<string, Tensor> { ["out.x"] = x.detach(), ["grad.w"] = w.grad! };
        foreach (var (name, p) in input.named_parameters()) result["grad." + name] = p.grad!;
        return result;
    }

    [Fact]
    public void MatchesReferenceWithPatchTransforms()
    {
        using var f = Fixture.Load("synthesis_input.safetensors");
        using var scope = NewDisposeScope();
        var ours = Run(f, float32);
        var exact = Run(f, float64);
        foreach (var name in f.Names("grad.").Select(n => "grad." + n).Prepend("out.x"))
            Close.AssertWithinRounding(ours[name], f[name], exact[name], Atol, Rtol, name);
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
