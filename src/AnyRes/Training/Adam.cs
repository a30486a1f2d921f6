using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AnyRes.Training;

/// <summary>
/// Adam exactly as <c>torch.optim.Adam</c> (single-tensor path, no weight decay, no amsgrad), with its state exposed as named
/// tensors so a resume file can hold it. Parameters are addressed by the module's own names.
/// </summary>
public sealed class Adam : IDisposable
{
    readonly (string Name, Parameter Param, Tensor ExpAvg, Tensor ExpAvgSq)[] _slots;
    public double LearningRate { get; }
    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    readonly long[] _steps;   // per parameter, as torch: a parameter without a gradient in a step does not count it

    public Adam(IEnumerable<(string Name, Parameter Param)> parameters, double lr, double beta1, double beta2, double eps = 1e-8)
    {
        (LearningRate, Beta1, Beta2, Eps) = (lr, beta1, beta2, eps);
        _slots = parameters.Select(p => (p.Name, p.Param,
            torch.zeros_like(p.Param).DetachFromDisposeScope(), torch.zeros_like(p.Param).DetachFromDisposeScope())).ToArray();
        _steps = new long[_slots.Length];
    }

    public IEnumerable<Parameter> Parameters => _slots.Select(s => s.Param);

    public void ZeroGrad()
    {
        foreach (var s in _slots) s.Param.grad = null;
    }

    /// <summary>One update of every parameter that has a gradient.</summary>
    public void StepOnce()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        for (int i = 0; i < _slots.Length; i++)
        {
            var (_, p, m, v) = _slots[i];
            var g = p.grad;
            if (g is null) continue;
            long step = ++_steps[i];
            double bc1 = 1 - Math.Pow(Beta1, step), bc2Sqrt = Math.Sqrt(1 - Math.Pow(Beta2, step));
            // Scalars held until the end of the iteration: TorchSharp 0.107 lets the GC finalize a temporary Scalar while the
            // native op that got its handle still reads it (an intermittent c10::Scalar::toDouble failure in long runs).
            using Scalar beta1 = Beta1, rest1 = 1 - Beta1, beta2 = Beta2, rest2 = 1 - Beta2, correction2 = bc2Sqrt, eps = Eps, stepSize = -LearningRate / bc1;
            m.mul_(beta1).add_(g, alpha: rest1);
            v.mul_(beta2).addcmul_(g, g, value: rest2);
            var denom = v.sqrt().div_(correction2).add_(eps);
            p.addcdiv_(m, denom, value: stepSize);
        }
    }

    /// <summary>The state as named tensors: <c>{prefix}exp_avg.{name}</c>, <c>{prefix}exp_avg_sq.{name}</c>, <c>{prefix}step.{name}</c>.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> State(string prefix)
    {
        for (int i = 0; i < _slots.Length; i++)
        {
            var (name, _, m, v) = _slots[i];
            yield return new(prefix + "exp_avg." + name, m);
            yield return new(prefix + "exp_avg_sq." + name, v);
            yield return new(prefix + "step." + name, torch.tensor(_steps[i]));
        }
    }

    public void Load(IReadOnlyDictionary<string, Tensor> tensors, string prefix)
    {
        using var noGrad = torch.no_grad();
        for (int i = 0; i < _slots.Length; i++)
        {
            var (name, _, m, v) = _slots[i];
            m.copy_(Get(tensors, prefix + "exp_avg." + name));
            v.copy_(Get(tensors, prefix + "exp_avg_sq." + name));
            _steps[i] = Get(tensors, prefix + "step." + name).item<long>();
        }
    }

    static Tensor Get(IReadOnlyDictionary<string, Tensor> tensors, string key) =>
        tensors.TryGetValue(key, out var t) ? t : throw new Core.AnyResException($"resume state lacks optimizer tensor '{key}'");

    public void Dispose()
    {
        foreach (var s in _slots) { s.ExpAvg.Dispose(); s.ExpAvgSq.Dispose(); }
    }
}
