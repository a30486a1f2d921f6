using AnyRes.Core;
using AnyRes.Metrics;

namespace AnyRes.Tests.Metrics;

public class MetricSpecTests
{
    [Fact]
    public void ParsesTheReferenceMetricStringsAndNamesResultsByDetector()
    {
        var p = MetricSpec.Parse("fd-patch256-min256max0");
        Assert.Equal((MetricKind.Patch, 256, 256, 0), (p.Kind, p.Size, p.Min, p.Max));
        Assert.Equal((1.0, (double?)null), p.Scales);
        Assert.Equal("fd_resnet18_patch256-min256max0", p.ResultName("resnet18"));
        Assert.Equal("fid_patch256-min256max0", p.ResultName("inception"));
        Assert.Equal(0.25, MetricSpec.Parse("fd-patch256-min256max1024").Scales.ScaleMin);
        Assert.Equal("fd_resnet18_up512", MetricSpec.Parse("fid-up512").ResultName("resnet18"));
        Assert.Equal("kid_full256", MetricSpec.Parse("kid-full256").ResultName("inception"));
        Assert.Equal(MetricKind.Subpatch, MetricSpec.Parse("fd-subpatch1024-min1024max0").Kind);
        Assert.Throws<AnyResException>(() => MetricSpec.Parse("fd-patch256-min128max0"));
        Assert.Throws<AnyResException>(() => MetricSpec.Parse("is50k"));
    }
}
