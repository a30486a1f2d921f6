using AnyRes.Training;
using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using Adam = AnyRes.Training.Adam;
using static TorchSharp.torch;

namespace AnyRes.Tests.Training;

/// <summary>Adam against the update written out in doubles (Kingma and Ba, algorithm 1, as torch.optim.Adam implements it).</summary>
public class AdamTests
{
    const double Lr = 0.01, B1 = 0.5, B2 = 0.9, Eps = 1e-8;

    [Fact]
    public void Three_steps_equal_the_update_computed_by_hand_and_a_step_without_gradient_does_not_count()
    {
        var start = new[] { 1.0, -2.0, 0.5 };
        var grads = new[] { new[] { 0.3, -1.0, 2.0 }, new[] { -0.1, 0.5, 0.0 }, new[] { 1.0, 1.0, -3.0 } };
        using var p = new Parameter(tensor(start.Select(x => (float)x).ToArray()));
        using var idle = new Parameter(tensor(new[] { 7f }));
        using var adam = new Adam([("p", p), ("idle", idle)], Lr, B1, B2, Eps);

        var x = (double[])start.Clone();
        var m = new double[3];
        var v = new double[3];
        for (int t = 1; t <= grads.Length; t++)
        {
            adam.ZeroGrad();
            p.grad = tensor(grads[t - 1].Select(g => (float)g).ToArray());
            adam.StepOnce();
            for (int i = 0; i < 3; i++)
            {
                double g = grads[t - 1][i];
                m[i] = B1 * m[i] + (1 - B1) * g;
                v[i] = B2 * v[i] + (1 - B2) * g * g;
                double mHat = m[i] / (1 - Math.Pow(B1, t)), vHat = v[i] / (1 - Math.Pow(B2, t));
                x[i] -= Lr * mHat / (Math.Sqrt(vHat) + Eps);
            }
            var got = p.data<float>().ToArray();
            for (int i = 0; i < 3; i++) Assert.Equal(x[i], got[i], 6);
        }
        Assert.Equal(7f, idle.item<float>());   // never had a gradient: untouched, and its step count stays 0
        var state = adam.State("opt.").ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(3L, state["opt.step.p"].item<long>());
        Assert.Equal(0L, state["opt.step.idle"].item<long>());
    }

    [Fact]
    public void State_loaded_into_a_fresh_optimizer_continues_identically()
    {
        using var a = new Parameter(tensor(new[] { 1f, 2f }));
        using var b = new Parameter(tensor(new[] { 1f, 2f }));
        using var first = new Adam([("w", a)], Lr, B1, B2);
        a.grad = tensor(new[] { 0.5f, -0.5f });
        first.StepOnce();
        using var second = new Adam([("w", b)], Lr, B1, B2);
        using (no_grad()) b.copy_(a);
        second.Load(first.State("").ToDictionary(kv => kv.Key, kv => kv.Value), "");
        a.grad = tensor(new[] { 0.25f, 1f });
        b.grad = tensor(new[] { 0.25f, 1f });
        first.StepOnce();
        second.StepOnce();
        Assert.Equal(a.data<float>().ToArray(), b.data<float>().ToArray());
    }
}
