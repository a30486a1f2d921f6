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

    /// <summary>Mean absolute step between columns x0 and x1 over rows and channels.</summary>
    static double ColumnStep(RgbImage image, int x0, int x1)
    {
        double sum = 0;
        for (int y = 0; y < image.Height; y++)
            for (int c = 0; c < 3; c++) sum += Math.Abs(image.Pixels[(y * image.Width + x1) * 3 + c] - image.Pixels[(y * image.Width + x0) * 3 + c]);
        return sum / (image.Height * 3);
    }

    /// <summary>The seam step (last column to first) over the interior's median step.</summary>
    static double SeamRatio(RgbImage image)
    {
        var interior = Enumerable.Range(0, image.Width - 1).Select(x => ColumnStep(image, x, x + 1)).Order().ToList();
        return ColumnStep(image, image.Width - 1, 0) / interior[interior.Count / 2];
    }

    [Fact]
    public void Panoramas_are_one_turn_wide_and_wrap_around()
    {
        var flatRatios = new List<double>();
        for (int i = 0; i < 6; i++)
        {
            var pano = SynthImages.Make(3, i, 64, 160, panoramaTurn: 6);
            Assert.InRange(pano.Height, 64, 160);
            Assert.Equal(pano.Height * 6, pano.Width);
            Assert.True(SeamRatio(pano) < 2, $"image {i}: the seam steps {SeamRatio(pano):0.00}x the interior's median step");
            flatRatios.Add(SeamRatio(SynthImages.Make(3, i, 64, 160)));   // the same recipe without wrapping: its edges do not meet
        }
        Assert.True(flatRatios.Average() > 3, $"unwrapped images' seams step only {flatRatios.Average():0.00}x their median: the check cannot tell");
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
