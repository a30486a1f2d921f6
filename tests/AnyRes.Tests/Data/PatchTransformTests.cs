using AnyRes.Data;

namespace AnyRes.Tests.Data;

public class PatchTransformTests
{
    [Fact]
    public void WorkedExampleOfSpecSection4_4()
    {
        var t = PatchTransform.FromCrop(100, 50, 256, 600);
        Assert.Equal(0.426667, t.Scale, 6);
        Assert.Equal(-0.12, t.TranslateX, 9);
        Assert.Equal(-0.203333, t.TranslateY, 6);
        Assert.Equal(2.34375, t.Zoom, 12);
    }

    [Theory]
    [InlineData(256, 600, 100, 50)]
    [InlineData(64, 169, 19, 50)]
    [InlineData(32, 32, 0, 0)]
    public void OutputPixelCentresLandOnVirtualPixelCentres(int p, int n, int x, int y)
    {
        var t = PatchTransform.FromCrop(x, y, p, n);
        for (int j = 0; j < p; j++)
        {
            double g = (j + 0.5) / p - 0.5;
            Assert.Equal((x + j + 0.5) / n - 0.5, t.Scale * g + t.TranslateX, 12);
            Assert.Equal((y + j + 0.5) / n - 0.5, t.Scale * g + t.TranslateY, 12);
        }
    }

    [Fact]
    public void FullImageIsIdentity()
    {
        Assert.Equal(PatchTransform.Identity, PatchTransform.FromCrop(0, 0, 256, 256));
    }
}
