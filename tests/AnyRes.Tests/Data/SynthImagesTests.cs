using AnyRes.Data;

namespace AnyRes.Tests.Data;

public class SynthImagesTests
{
    [Fact]
    public void SameSeedSameImagesAtVariedSizesInRange()
    {
        var sizes = new HashSet<(int, int)>();
        for (int i = 0; i < 10; i++)
        {
            var a = SynthImages.Make(5, i, 30, 90);
            Assert.Equal(a.Pixels, SynthImages.Make(5, i, 30, 90).Pixels);
            Assert.InRange(a.Width, 30, 90);
            Assert.InRange(a.Height, 30, 90);
            sizes.Add((a.Width, a.Height));
        }
        Assert.True(sizes.Count >= 8);
        Assert.NotEqual(SynthImages.Make(5, 0, 30, 90).Pixels, SynthImages.Make(6, 0, 30, 90).Pixels);
    }

    [Fact]
    public void DetailExistsAtEveryScaleSoDownsamplingRemovesIt()
    {
        // Energy lost by a Lanczos down-and-up round trip at factors 2, 4, 8, 16: all clearly non-zero.
        var image = SynthImages.Make(0, 1, 512, 512);
        foreach (int factor in new[] { 2, 4, 8, 16 })
        {
            var round = Lanczos.Resize(Lanczos.Resize(image, 512 / factor, 512 / factor), 512, 512);
            double lost = image.Pixels.Zip(round.Pixels, (a, b) => Math.Abs(a - b)).Average();
            Assert.True(lost > 2, $"factor {factor}: only {lost:g3} grey levels of detail removed");
        }
    }

    [Fact]
    public void WriteSetWritesReadablePngs()
    {
        using var dir = new TempDir();
        var paths = SynthImages.WriteSet(dir.Path, 3, 16, 40, 1);
        using var source = ImageSource.Open(dir.Path, useCache: false);
        Assert.Equal(paths.Select(Path.GetFileName), source.Images.Select(i => i.Path));
        Assert.Equal(SynthImages.Make(1, 2, 16, 40).Pixels, source.Decode(source.Images[2]).Image.Pixels);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }
}
