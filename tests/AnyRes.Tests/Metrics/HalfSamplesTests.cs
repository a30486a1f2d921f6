using AnyRes.Data;
using AnyRes.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Tests.Metrics;

public class HalfSamplesTests
{
    [Fact]
    public void Halves_are_distinct_in_range_and_deterministic()
    {
        var a = HalfSamples.Indices(101, 3, 7);
        Assert.Equal(50, a.Length);
        Assert.Equal(a.Distinct().Count(), a.Length);
        Assert.All(a, i => Assert.InRange(i, 0, 100));
        Assert.Equal(a.Order(), a);
        Assert.Equal(a, HalfSamples.Indices(101, 3, 7));
        Assert.NotEqual(a, HalfSamples.Indices(101, 4, 7));
        Assert.NotEqual(a, HalfSamples.Indices(101, 3, 8));
        Assert.NotEqual(a, HalfSamples.Indices(101, 3, 7, stream: 1));
    }

    /// <summary>Closed form: the mean of a half drawn without replacement has variance S²/n, the full mean's squared standard error.</summary>
    [Fact]
    public void Spread_of_a_mean_is_its_standard_error()
    {
        const int n = 200;
        var rng = new SampleRng(11, 0, 0);
        var x = Enumerable.Range(0, n).Select(_ => rng.Uniform(-1, 3) * rng.Uniform(0, 2)).ToArray();
        double mean = x.Average(), s2 = x.Sum(v => (v - mean) * (v - mean)) / (n - 1);
        var halves = Enumerable.Range(0, 4000).Select(r => HalfSamples.Indices(n, r, 1).Average(i => x[i])).ToList();
        var (m, std) = HalfSamples.MeanStd(halves);
        Assert.Equal(Math.Sqrt(s2 / n), std, Math.Sqrt(s2 / n) * 0.04);
        Assert.Equal(mean, m, Math.Sqrt(s2 / n) * 0.1);
    }

    /// <summary>1-D features: FD = (μ₁ − μ₂)² + (σ₁ − σ₂)², recomputed here in plain doubles on every round's half.</summary>
    [Fact]
    public void Comparison_matches_an_independent_one_dimensional_computation()
    {
        const int n = 40;
        var rng = new SampleRng(3, 0, 0);
        double[] reals = Draw(rng, n, 0, 1), s2 = Draw(rng, n, 0.3, 1.2), up = Draw(rng, n, 1, 0.5);
        static double[] Draw(SampleRng r, int n, double mu, double sigma) => Enumerable.Range(0, n).Select(_ => mu + sigma * (r.NextDouble() + r.NextDouble() + r.NextDouble() - 1.5) * 2).ToArray();
        static double Fd1(double[] a, double[] b)
        {
            double ma = a.Average(), mb = b.Average();
            double sa = Math.Sqrt(a.Sum(v => (v - ma) * (v - ma)) / (a.Length - 1)), sb = Math.Sqrt(b.Sum(v => (v - mb) * (v - mb)) / (b.Length - 1));
            return (ma - mb) * (ma - mb) + (sa - sb) * (sa - sb);
        }
        Tensor T(double[] v) => torch.tensor(v.Select(d => (float)d).ToArray(), [v.Length, 1]);
        // The features are float32, as the detector's; the reference values use the same rounded numbers.
        double[] F(double[] v) => v.Select(d => (double)(float)d).ToArray();
        var (r32, s32, u32) = (F(reals), F(s2), F(up));

        const int rounds = 6;
        var row = Comparison.Compute("x", T(reals), T(s2), T(up), paired: true, rounds, seed: 9);
        Assert.Equal(Fd1(r32, s32), row.FdStage2.Value, 1e-9);
        Assert.Equal(Fd1(r32, u32), row.FdUpsampled.Value, 1e-9);
        Assert.Equal(Fd1(r32, s32) / Fd1(r32, u32), row.Ratio.Value, 1e-9);
        var halves = Enumerable.Range(0, rounds).Select(r => HalfSamples.Indices(n, r, 9, stream: 1)).ToList();
        double[] Pick(double[] v, long[] idx) => idx.Select(i => v[i]).ToArray();
        var fdS = halves.Select(h => Fd1(Pick(r32, h), Pick(s32, h))).ToList();
        var fdU = halves.Select(h => Fd1(Pick(r32, h), Pick(u32, h))).ToList();
        Assert.Equal(HalfSamples.MeanStd(fdS).Std, row.FdStage2.Std, 1e-9);
        Assert.Equal(HalfSamples.MeanStd(fdU).Std, row.FdUpsampled.Std, 1e-9);
        Assert.Equal(HalfSamples.MeanStd(fdS.Zip(fdU, (a, b) => a / b).ToList()).Std, row.Ratio.Std, 1e-9);
        Assert.Equal(fdS.Zip(fdU).Count(p => p.First < p.Second), row.Wins);
        Assert.True(double.IsFinite(row.KidStage2.Value) && row.KidStage2.Std > 0);
    }

    /// <summary>Paired halves of a shifted copy: every round's FD is exactly the squared shift, so the spread is zero.</summary>
    [Fact]
    public void Paired_spread_of_a_shifted_copy_is_zero()
    {
        manual_seed(1);
        var reals = randn(64, 8, dtype: float64);
        var shift = torch.linspace(-1, 1, 8, dtype: float64);
        var row = Comparison.Compute("x", reals, reals + shift, reals * 1.5, paired: true, rounds: 5, seed: 0);
        double d2 = shift.square().sum().item<double>();
        Assert.Equal(d2, row.FdStage2.Value, 1e-6);
        Assert.True(row.FdStage2.Std < 1e-6, $"spread {row.FdStage2.Std}");
        Assert.True(row.FdUpsampled.Std > 1e-3);
    }
}
