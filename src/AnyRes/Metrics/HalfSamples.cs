using AnyRes.Data;

namespace AnyRes.Metrics;

/// <summary>
/// The spread of a statistic of already-computed features by half-sampling: each round takes a random half (⌊n/2⌋ of n,
/// without replacement) and recomputes the statistic. For a mean, a half drawn without replacement has variance
/// S²/m·(1 − m/n) = S²/n at m = n/2 — exactly the variance of the mean of all n — so the standard deviation over rounds
/// estimates the full-set statistic's standard error with no rescaling; unlike the bootstrap it never duplicates a sample
/// (duplicates would shrink covariances and inflate KID's within-set kernel terms). Deterministic: round r of a seed always
/// draws the same half.
/// </summary>
public static class HalfSamples
{
    /// <summary>Sorted indices of round <paramref name="round"/>'s half of 0..n−1 (partial Fisher–Yates on a SplitMix stream).</summary>
    public static long[] Indices(int n, int round, ulong seed, long stream = 0)
    {
        if (n < 4) throw new ArgumentException($"half-sampling needs at least 4 samples, got {n}");
        var order = Enumerable.Range(0, n).ToArray();
        var rng = new SampleRng(seed, round, 0x4841_4C46 + stream);
        int m = n / 2;
        for (int i = 0; i < m; i++)
        {
            int j = rng.Int(i, n - 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order.Take(m).Order().Select(i => (long)i).ToArray();
    }

    /// <summary>Mean and sample standard deviation (n − 1) of the rounds' values.</summary>
    public static (double Mean, double Std) MeanStd(IReadOnlyList<double> values)
    {
        if (values.Count < 2) throw new ArgumentException("a spread needs at least two rounds");
        double mean = values.Average();
        return (mean, Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)));
    }
}
