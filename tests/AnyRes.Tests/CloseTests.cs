using AnyRes.Tests.Networks;
using Xunit.Sdk;
using static TorchSharp.torch;

namespace AnyRes.Tests;

/// <summary>The comparison helpers every parity test relies on must fail on NaN (every comparison with NaN is false).</summary>
public class CloseTests
{
    [Fact]
    public void NaNAgainstANumberFailsAndMatchingNaNsPass()
    {
        using var scope = NewDisposeScope();
        var expected = tensor(new[] { 1f, 2f, float.NaN });
        Assert.Throws<FailException>(() => Close.Assert(tensor(new[] { 1f, float.NaN, float.NaN }), expected, 1, 1, "x"));
        Assert.ThrowsAny<XunitException>(() => GradientClose.Assert(tensor(new[] { float.NaN, 2f, float.NaN }), expected, 1, 1, "g"));
        Assert.Throws<FailException>(() => Close.Assert(tensor(new[] { 1f, float.PositiveInfinity, float.NaN }), expected, 1, 1, "inf"));
        Close.Assert(tensor(new[] { 1f, 2.5f, float.NaN }), expected, 0.6, 0, "within tolerance");
        GradientClose.Assert(tensor(new[] { 1f, 2f, float.NaN }), expected, 0, 0, "equal");
    }
}
