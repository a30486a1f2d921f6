using AnyRes.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Metrics;

/// <summary>
/// Features of one image set accumulated in float64 (mean and covariance as the reference's FeatureStats), keeping the
/// features themselves (float32) for KID. CPU tensors.
/// </summary>
public sealed class FeatureStatistics : IDisposable
{
    readonly List<Tensor> chunks = [];
    Tensor? sum, outer;

    public long Count { get; private set; }

    public void Append(Tensor features)
    {
        using var scope = NewDisposeScope();
        var f = features.detach().to(CPU).to(float32);
        var f64 = f.to(float64);
        var s = f64.sum([0]);
        var o = f64.t().matmul(f64);
        if (sum is null) { sum = s.DetachFromDisposeScope(); outer = o.DetachFromDisposeScope(); }
        else { sum.add_(s); outer!.add_(o); }
        chunks.Add(f.clone().DetachFromDisposeScope());
        Count += f.shape[0];
    }

    /// <summary>Mean μ [D] and covariance Σ [D,D] (float64, divided by n − 1 as np.cov).</summary>
    public (Tensor Mean, Tensor Cov) MeanCov()
    {
        if (sum is null || Count < 2) throw new InvalidOperationException("statistics need at least two samples");
        using var scope = NewDisposeScope();
        var mu = sum / Count;
        var cov = (outer! - Count * mu.outer(mu)) / (Count - 1);
        return (mu.MoveToOuterDisposeScope(), cov.MoveToOuterDisposeScope());
    }

    /// <summary>All features [N,D] (float32).</summary>
    public Tensor Features() => torch.cat(chunks);

    public void Save(string path, IReadOnlyDictionary<string, Tensor> extra, IReadOnlyDictionary<string, string> metadata)
    {
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>(extra) { ["sum"] = sum!, ["outer"] = outer!, ["features"] = Features() };
        SafetensorsFile.Write(path, tensors, metadata);
    }

    public static FeatureStatistics FromTensors(IReadOnlyDictionary<string, Tensor> t)
    {
        var s = new FeatureStatistics { sum = t["sum"].to(float64).DetachFromDisposeScope(), outer = t["outer"].to(float64).DetachFromDisposeScope() };
        s.chunks.Add(t["features"].to(float32).DetachFromDisposeScope());
        s.Count = t["features"].shape[0];
        return s;
    }

    public void Dispose()
    {
        sum?.Dispose();
        outer?.Dispose();
        foreach (var c in chunks) c.Dispose();
    }
}

public static class Distances
{
    /// <summary>
    /// Fréchet distance ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^½) in float64. Tr (Σ₁Σ₂)^½ = Σ √λᵢ(A Σ₂ A) with A = Σ₁^½, both
    /// from symmetric eigendecompositions (A Σ₂ A is similar to Σ₁Σ₂ and symmetric PSD; tiny negative eigenvalues are rounding).
    /// </summary>
    public static double Frechet(Tensor mu1, Tensor sigma1, Tensor mu2, Tensor sigma2)
    {
        using var scope = NewDisposeScope();
        var (m1, s1, m2, s2) = (mu1.to(float64), sigma1.to(float64), mu2.to(float64), sigma2.to(float64));
        var a = SqrtPsd(s1);
        var m = a.matmul(s2).matmul(a);
        m = (m + m.t()) / 2;
        var traceSqrt = linalg.eigvalsh(m).clamp_min(0).sqrt().sum();
        var fd = (m1 - m2).square().sum() + s1.trace() + s2.trace() - 2 * traceSqrt;
        return fd.item<double>();
    }

    /// <summary>Square root of a symmetric positive semi-definite matrix by eigendecomposition.</summary>
    public static Tensor SqrtPsd(Tensor s)
    {
        using var scope = NewDisposeScope();
        var (l, v) = linalg.eigh((s + s.t()) / 2);
        return v.matmul(torch.diag(l.clamp_min(0).sqrt())).matmul(v.t()).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Kernel Inception Distance (Bińkowski et al.; SG3's kernel_inception_distance.py): the unbiased MMD² with the cubic
    /// polynomial kernel k(x, y) = (xᵀy/d + 1)³, averaged over <paramref name="subsets"/> random subsets of
    /// m = min(n_real, n_fake, <paramref name="maxSubsetSize"/>) drawn without replacement. Deterministic for a seed.
    /// </summary>
    public static double Kid(Tensor real, Tensor fake, int subsets = 100, int maxSubsetSize = 1000, long seed = 0)
    {
        using var scope = NewDisposeScope();
        var x0 = fake.to(float64);
        var y0 = real.to(float64);
        long d = x0.shape[1];
        long m = Math.Min(Math.Min(x0.shape[0], y0.shape[0]), maxSubsetSize);
        if (m < 2) throw new InvalidOperationException("KID needs at least two samples of each set");
        var gen = new torch.Generator((ulong)seed);
        double t = 0;
        for (int i = 0; i < subsets; i++)
        {
            using var inner = NewDisposeScope();
            var x = x0[randperm(x0.shape[0], generator: gen)[..(int)m]];
            var y = y0[randperm(y0.shape[0], generator: gen)[..(int)m]];
            var a = Cube(x.matmul(x.t()) / d + 1) + Cube(y.matmul(y.t()) / d + 1);
            var b = Cube(x.matmul(y.t()) / d + 1);
            t += ((a.sum() - a.diagonal().sum()) / (m - 1) - b.sum() * 2 / m).item<double>();
        }
        return t / subsets / m;
    }

    // Products, not pow(3): libtorch's float64 pow is an order of magnitude slower here.
    static Tensor Cube(Tensor k) => k * k * k;
}
