using AnyRes.Core;
using AnyRes.Data;
using SkiaSharp;

namespace AnyRes.Tests.Data;

public class DatasetTests
{
    static void Write(TempDir dir, string name, RgbImage image, SKEncodedImageFormat format = SKEncodedImageFormat.Png) =>
        File.WriteAllBytes(dir[name], TestData.Encode(image, format));

    [Fact]
    public void LowResItemsArePBySquareCropsAndSmallImagesAreExcludedByName()
    {
        using var dir = new TempDir();
        Write(dir, "wide.png", SynthImages.Make(1, 0, 90, 90).Crop(0, 0, 90, 40));
        Write(dir, "tall.png", TestData.Pattern(33, 70));
        Write(dir, "tiny.png", TestData.Pattern(20, 50));
        using var source = ImageSource.Open(dir.Path, useCache: false);
        var warnings = new List<string>();
        var lr = new LowResDataset(source, new LowResDatasetOptions { Size = 32, XFlip = true }, warnings.Add);
        Assert.Equal(4, lr.Count);
        Assert.Single(warnings);
        Assert.Contains("tiny.png", warnings[0]);
        for (int i = 0; i < lr.Count; i++)
        {
            var item = lr.Get(i, new SampleRng(0, i, 0));
            Assert.Equal((32, 32), (item.Width, item.Height));
        }
        // Square, same-size input: identity resize, and the mirrored copy is its flip.
        Write(dir, "square.png", TestData.Pattern(32, 32));
        using var again = ImageSource.Open(dir.Path, useCache: false);
        var exact = new LowResDataset(again, new LowResDatasetOptions { Size = 32, XFlip = true }, _ => { });
        int sq = exact.Images.ToList().FindIndex(i => i.Path == "square.png");
        Assert.Equal(TestData.Pattern(32, 32).Pixels, exact.Get(sq, new SampleRng(0, 0, 0)).Pixels);
        Assert.Equal(TestData.Pattern(32, 32).FlipX().Pixels, exact.Get(sq + exact.Images.Count, new SampleRng(0, 0, 0)).Pixels);
        var upsampled = new LowResDataset(again, new LowResDatasetOptions { Size = 32, AllowUpsample = true }, _ => { });
        Assert.Equal(4, upsampled.Count);
    }

    [Fact]
    public void PatchDatasetExcludesImagesBelowTheSmallestVirtualSizeUpFront()
    {
        using var dir = new TempDir();
        Write(dir, "big.png", TestData.Pattern(200, 150));
        Write(dir, "small.png", TestData.Pattern(100, 120));
        using var source = ImageSource.Open(dir.Path, useCache: false);
        var warnings = new List<string>();
        var hr = new PatchDataset(source, new PatchDatasetOptions { Size = 64, ScaleMax = 0.5 }, warnings.Add);
        Assert.Equal(["big.png"], hr.Images.Select(i => i.Path));
        Assert.Contains("small.png", Assert.Single(warnings));
        var none = Assert.Throws<AnyResException>(() => new PatchDataset(source, new PatchDatasetOptions { Size = 64, ScaleMax = 0.25 }, _ => { }));
        Assert.Contains("too small", none.Message);
    }

    [Fact]
    public void PatchPixelsSitWhereTheirTransformSays()
    {
        // The patch equals the window of the whole N×N Lanczos resize that the transform points at (pixel x = N·(tx + 1/2) − p/2),
        // for plain and mirrored items.
        using var dir = new TempDir();
        var native = SynthImages.Make(2, 0, 150, 220);
        Write(dir, "img.png", native);
        using var source = ImageSource.Open(dir.Path, useCache: false);
        const int p = 48;
        var hr = new PatchDataset(source, new PatchDatasetOptions { Size = p, ScaleMax = 0.5, XFlip = true });
        for (int i = 0; i < 12; i++)
        {
            var sample = hr.Get(i % 2, new SampleRng(7, i, 0));
            var d = sample.Draw;
            int n = (int)Math.Round(p / sample.Transform.Scale);
            Assert.Equal(d.NewSize, n);
            Assert.Equal((double)n / p, sample.Zoom, 12);
            int x = (int)Math.Round(n * (sample.Transform.TranslateX + 0.5) - p / 2.0), y = (int)Math.Round(n * (sample.Transform.TranslateY + 0.5) - p / 2.0);
            var upright = d.Mirrored ? native.FlipX() : native;
            var square = upright.Crop(d.CropX, d.CropY, d.Side, d.Side);
            var expected = Lanczos.Resize(square, n, n).Crop(x, y, p, p);
            var diff = sample.Image.Pixels.Zip(expected.Pixels, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(diff <= 1, $"sample {i} (mirrored {d.Mirrored}): max difference {diff}");
        }
    }

    [Fact]
    public void DecodeCacheGivesTheSamePatchesAsRegionDecoding()
    {
        using var dir = new TempDir();
        Write(dir, "photo.jpg", SynthImages.Make(3, 0, 500, 700), SKEncodedImageFormat.Jpeg);
        Write(dir, "art.png", SynthImages.Make(3, 1, 300, 300));
        using var plain = ImageSource.Open(dir.Path, useCache: false);
        using var cached = ImageSource.Open(dir.Path, useCache: false);
        cached.DecodeCacheBytes = 1 << 26;
        var a = new PatchDataset(plain, new PatchDatasetOptions { Size = 64 });
        var b = new PatchDataset(cached, new PatchDatasetOptions { Size = 64 });
        for (int i = 0; i < 10; i++)
        {
            var pa = a.Get(i % 2, new SampleRng(2, i, 0));
            var pb = b.Get(i % 2, new SampleRng(2, i, 0));
            Assert.Equal(pa.Draw, pb.Draw);
            Assert.True(pa.Image.Pixels.Zip(pb.Image.Pixels, (u, v) => Math.Abs(u - v)).Max() <= 1, $"sample {i}");
        }
    }

    [Fact]
    public void DctScaledJpegPatchesKeepTheDrawsAndStayClose()
    {
        using var dir = new TempDir();
        Write(dir, "photo.jpg", SynthImages.Make(3, 0, 700, 900), SKEncodedImageFormat.Jpeg);
        using var source = ImageSource.Open(dir.Path, useCache: false);
        var fast = new PatchDataset(source, new PatchDatasetOptions { Size = 64, ScaleMax = 0.5 });
        var exact = new PatchDataset(source, new PatchDatasetOptions { Size = 64, ScaleMax = 0.5, FastJpeg = false });
        double worst = 0;
        for (int i = 0; i < 8; i++)
        {
            var a = fast.Get(0, new SampleRng(1, i, 0));
            var b = exact.Get(0, new SampleRng(1, i, 0));
            Assert.Equal(a.Draw, b.Draw);
            Assert.Equal(a.Transform, b.Transform);
            worst = Math.Max(worst, a.Image.Pixels.Zip(b.Image.Pixels, (u, v) => Math.Abs(u - v)).Average());
        }
        Assert.True(worst < 4, $"mean abs difference of DCT-scaled patches {worst:g3} grey levels");
    }
}
