using AnyRes.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Tests.Metrics;

public class DistancesTests
{
    [Fact]
    public void FrechetOfASetWithItselfIsZero()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        using var stats = new FeatureStatistics();
        stats.Append(randn(300, 32) * 3 + 1);
        stats.Append(randn(200, 32).square());
        var (mu, cov) = stats.MeanCov();
        Assert.True(Math.Abs(Distances.Frechet(mu, cov, mu, cov)) < 1e-8, "FD(x, x) = 0");
    }

    [Fact]
    public void StatisticsAreTheSampleMeanAndUnbiasedCovariance()
    {
        using var scope = NewDisposeScope();
        manual_seed(6);
        var f = randn(50, 4);
        using var stats = new FeatureStatistics();
        stats.Append(f[..20]);
        stats.Append(f[20..]);
        var (mu, cov) = stats.MeanCov();
        var f64 = f.to(float64);
        Close.Assert(mu, f64.mean([0]), 1e-12, 1e-9, "mean");
        Close.Assert(cov, torch.cov(f64.t()), 1e-12, 1e-9, "covariance");
    }

    /// <summary>
    /// Two non-commuting 2×2 covariances: for 2×2 matrices Tr √M = √(Tr M + 2√det M), so
    /// FD = ‖μ₁−μ₂‖² + Tr Σ₁ + Tr Σ₂ − 2√(Tr Σ₁Σ₂ + 2√(det Σ₁ det Σ₂)).
    /// </summary>
    [Fact]
    public void FrechetMatchesTheClosedFormForTwoGaussians()
    {
        using var scope = NewDisposeScope();
        double[,] s1 = { { 2.0, 0.6 }, { 0.6, 1.0 } }, s2 = { { 0.5, -0.3 }, { -0.3, 3.0 } };
        double[] m1 = { 0.5, -1 }, m2 = { 2, 0.25 };
        double tr12 = 0, det1 = s1[0, 0] * s1[1, 1] - s1[0, 1] * s1[1, 0], det2 = s2[0, 0] * s2[1, 1] - s2[0, 1] * s2[1, 0];
        for (int i = 0; i < 2; i++) for (int k = 0; k < 2; k++) tr12 += s1[i, k] * s2[k, i];
        double expected = Math.Pow(m1[0] - m2[0], 2) + Math.Pow(m1[1] - m2[1], 2) + s1[0, 0] + s1[1, 1] + s2[0, 0] + s2[1, 1]
            - 2 * Math.Sqrt(tr12 + 2 * Math.Sqrt(det1 * det2));
        var fd = Distances.Frechet(tensor(m1), tensor(s1), tensor(m2), tensor(s2));
        Assert.Equal(expected, fd, 10);
        // Diagonal (commuting) case: Σ (σ₁ − σ₂)² per dimension.
        var d = Distances.Frechet(zeros(3, dtype: float64), diag(tensor(new[] { 4.0, 1, 9 })), zeros(3, dtype: float64), diag(tensor(new[] { 1.0, 1, 1 })));
        Assert.Equal(1 + 0 + 4, d, 10);
    }

    /// <summary>
    /// 1-D features, k(x, y) = (xy + 1)³ = x³y³ + 3x²y² + 3xy + 1, so MMD² = (m₃ˣ − m₃ʸ)² + 3(m₂ˣ − m₂ʸ)² + 3(m₁ˣ − m₁ʸ)² with the
    /// raw moments of U(a, b): m_k = (b^(k+1) − a^(k+1)) / ((k+1)(b − a)). Uniform (bounded) keeps the estimator's scatter small.
    /// </summary>
    [Fact]
    public void KidMatchesTheClosedFormOnKnownDistributions()
    {
        using var scope = NewDisposeScope();
        manual_seed(8);
        static double M(int k, double a, double b) => (Math.Pow(b, k + 1) - Math.Pow(a, k + 1)) / ((k + 1) * (b - a));
        double expected = Math.Pow(M(3, -1, 1) - M(3, -0.5, 1.5), 2) + 3 * Math.Pow(M(2, -1, 1) - M(2, -0.5, 1.5), 2) + 3 * Math.Pow(M(1, -1, 1) - M(1, -0.5, 1.5), 2);
        var real = rand(4000, 1) * 2 - 1;
        var fake = rand(4000, 1) * 2 - 0.5;
        var kid = Distances.Kid(real, fake, subsets: 20, maxSubsetSize: 500, seed: 1);
        Assert.InRange(kid, expected * 0.9, expected * 1.1);
        // Same distribution: the unbiased estimate scatters around 0.
        var same = Distances.Kid(rand(4000, 1), rand(4000, 1), subsets: 20, maxSubsetSize: 500, seed: 2);
        Assert.InRange(same, -0.03 * expected, 0.03 * expected);
        Assert.Equal(kid, Distances.Kid(real, fake, subsets: 20, maxSubsetSize: 500, seed: 1));
    }
}
