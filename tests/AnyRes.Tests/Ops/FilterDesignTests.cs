using AnyRes.Ops;

namespace AnyRes.Tests.Ops;

/// <summary>The filter test vectors of spec 13.3 (SG3-T 256 layers) and closed-form Bessel values.</summary>
public class FilterDesignTests
{
    static void Near(double[] expected, double[] actual, double tol)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"tap {i}: {actual[i]} vs {expected[i]}");
    }

    [Fact]
    public void FirwinMatchesSpecVectors()
    {
        Near(new[] { 0.000792, 0.010018, 0.038950, 0.092413, 0.156526, 0.201302, 0.201302, 0.156526, 0.092413, 0.038950, 0.010018, 0.000792 },
            FilterDesign.Firwin(12, 2, 12, 32), 1e-6);
        Near(new[] { 0.000140, 0.006680, 0.033713, 0.089386, 0.159805, 0.210276 }, FilterDesign.Firwin(12, 5.656854, 20.686292, 64)[..6], 1e-6);
        Near(new[] { -0.001638, -0.003055, -0.003715, -0.002145, 0.003312, 0.013982, 0.030284, 0.051312, 0.074753, 0.097216, 0.114951, 0.124744 },
            FilterDesign.Firwin(24, 4, 8, 64)[..12], 1e-6);
        Assert.Equal(6.4437, FilterDesign.KaiserBeta(FilterDesign.KaiserAtten(12, 12 / 16.0)), 4);
    }

    [Fact]
    public void RadialJincMatchesSpecVector()
    {
        var f = FilterDesign.Jinc(12, 2, 12, 32);
        foreach (var (i, j) in new[] { (5, 5), (5, 6), (6, 5), (6, 6) }) Assert.Equal(0.038755, f[i * 12 + j], 6);
        Assert.Equal(8.41e-7, f[0], 8);
        Assert.Equal(1.0, f.Sum(), 12);
    }

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(1.0, 0.44005058574493355)]
    [InlineData(5.0, -0.3275791375914653)]
    [InlineData(24.4, -0.1612042074394492)]
    public void BesselJ1MatchesTables(double x, double expected) => Assert.Equal(expected, FilterDesign.BesselJ1(x), 12);

    [Fact]
    public void BesselI0MatchesTable() => Assert.Equal(27.239871823604442, FilterDesign.BesselI0(5), 10);
}
