using AnyRes.Core;
using AnyRes.Synthesis;

namespace AnyRes.Tests.Synthesis;

public class SeedsTests
{
    // np.random.RandomState(seed).randn(5), NumPy 1.24 (independent reference values).
    [Theory]
    [InlineData(0u, new[] { 1.764052345967664, 0.4001572083672233, 0.9787379841057392, 2.240893199201458, 1.8675579901499675 })]
    [InlineData(42u, new[] { 0.4967141530112327, -0.13826430117118466, 0.6476885381006925, 1.5230298564080254, -0.23415337472333597 })]
    [InlineData(4294967295u, new[] { 0.6484086742306527, 0.6693235306338161, -1.0805437227474493, 0.2845010447986309, 0.11388773652167104 })]
    public void LatentsAreNumpyRandomStateRandn(uint seed, double[] expected)
    {
        var rng = new NumpyRandomState(seed);
        foreach (var e in expected) Assert.Equal(e, rng.Gauss(), 14);
        Assert.Equal(expected.Select(e => (float)e), Seeds.Latent(seed, 5));
    }

    [Fact]
    public void SeedListsParseLikeGenImages()
    {
        Assert.Equal(new uint[] { 0, 1, 2, 3, 10, 12, 13 }, Seeds.Parse("0-3,10, 12-13"));
        Assert.Throws<AnyResException>(() => Seeds.Parse("5-2"));
        Assert.Throws<AnyResException>(() => Seeds.Parse("a"));
        Assert.Throws<AnyResException>(() => Seeds.Parse(""));
    }
}
