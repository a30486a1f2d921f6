using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Metrics;

/// <summary>A value on all features and its spread: the standard deviation over half-sample rounds.</summary>
public readonly record struct Spread(double Value, double Std);

/// <summary>One row of the protocol's table: FD and KID of the stage-2 model and of the stage-1 model upsampled, on the same reals.</summary>
public sealed record ComparisonRow(string Label, int Reals, int Fakes, Spread FdStage2, Spread FdUpsampled, Spread Ratio, int Wins, int Rounds,
    Spread KidStage2, Spread KidUpsampled);

/// <summary>
/// The paper's comparison on already-computed features [n, D]: Fréchet distance and KID of stage 2 and of the upsampled
/// stage 1 against the same reals, each on all features, with the spread of <see cref="HalfSamples"/>. Patch metrics are
/// paired (fake i was rendered with real i's transform, and both fakes from the same latent), so every round keeps the same
/// indices in all three sets; full-image metrics draw the reals' half and the fakes' half independently (the fakes' half
/// shared by the two models). The ratio's spread is over the rounds' ratios; <see cref="ComparisonRow.Wins"/> counts the
/// rounds in which stage 2 has the lower FD.
/// </summary>
public static class Comparison
{
    public static ComparisonRow Compute(string label, Tensor reals, Tensor stage2, Tensor upsampled, bool paired, int rounds, ulong seed)
    {
        int nr = (int)reals.shape[0], nf = (int)stage2.shape[0];
        if (upsampled.shape[0] != nf || (paired && nr != nf)) throw new ArgumentException($"{label}: feature counts differ ({nr}, {nf}, {upsampled.shape[0]})");
        double fdS = Fd(reals, stage2), fdU = Fd(reals, upsampled), kidS = Kid(reals, stage2), kidU = Kid(reals, upsampled);
        var (rs, ru, ratios, ks, ku) = (new List<double>(), new List<double>(), new List<double>(), new List<double>(), new List<double>());
        int wins = 0;
        for (int r = 0; r < rounds; r++)
        {
            using var scope = NewDisposeScope();
            var fi = torch.tensor(HalfSamples.Indices(nf, r, seed, stream: 1));
            var ri = paired ? fi : torch.tensor(HalfSamples.Indices(nr, r, seed, stream: 0));
            var (x, s, u) = (reals.index_select(0, ri), stage2.index_select(0, fi), upsampled.index_select(0, fi));
            double a = Fd(x, s), b = Fd(x, u);
            rs.Add(a); ru.Add(b); ratios.Add(a / b);
            if (a < b) wins++;
            ks.Add(Kid(x, s)); ku.Add(Kid(x, u));
        }
        Spread With(double value, List<double> values) => new(value, HalfSamples.MeanStd(values).Std);
        return new ComparisonRow(label, nr, nf, With(fdS, rs), With(fdU, ru), With(fdS / fdU, ratios), wins, rounds, With(kidS, ks), With(kidU, ku));
    }

    /// <summary>FD of fakes against reals from features, as <see cref="MetricRunner"/> computes it (float64, covariance over n − 1).</summary>
    public static double Fd(Tensor reals, Tensor fakes)
    {
        using var scope = NewDisposeScope();
        var (m1, s1) = MeanCov(fakes);
        var (m2, s2) = MeanCov(reals);
        return Distances.Frechet(m1, s1, m2, s2);
    }

    /// <summary>
    /// KID as the metric runner computes it (100 subsets of up to 1,000). When both sets have the same size of at most 1,000,
    /// every subset is the whole of both sets, so one subset gives the value that 100 would.
    /// </summary>
    public static double Kid(Tensor reals, Tensor fakes)
    {
        bool whole = reals.shape[0] == fakes.shape[0] && reals.shape[0] <= 1000;
        return Distances.Kid(reals, fakes, subsets: whole ? 1 : 100, maxSubsetSize: 1000, seed: 0);
    }

    static (Tensor Mean, Tensor Cov) MeanCov(Tensor features)
    {
        var x = features.to(float64);
        var mu = x.mean([0]);
        var centred = x - mu;
        return (mu, centred.t().matmul(centred) / (x.shape[0] - 1));
    }
}
