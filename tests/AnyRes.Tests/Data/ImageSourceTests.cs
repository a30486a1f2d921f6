using System.IO.Compression;
using AnyRes.Core;
using AnyRes.Data;
using BitMiracle.LibTiff.Classic;
using SkiaSharp;

namespace AnyRes.Tests.Data;

public class ImageSourceTests
{
    static ImageCodec.Decoded Decode(byte[] bytes, string name = "test")
    {
        using var data = SKData.CreateCopy(bytes);
        return ImageCodec.Decode(data, name);
    }

    static ImageHeader Header(byte[] bytes, string name = "test")
    {
        using var data = SKData.CreateCopy(bytes);
        return ImageCodec.ReadHeader(data, name);
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Png, 0)]
    [InlineData(SKEncodedImageFormat.Bmp, 0)]
    [InlineData(SKEncodedImageFormat.Webp, 3)]
    [InlineData(SKEncodedImageFormat.Jpeg, 3)]
    public void LosslessFormatsRoundTripAndLossyOnesStayClose(SKEncodedImageFormat format, int tolerance)
    {
        var image = tolerance == 0 ? TestData.Pattern(40, 30) : TestData.Smooth(40, 30);
        var bytes = format == SKEncodedImageFormat.Bmp ? TestData.Bmp(image) : TestData.Encode(image, format);
        Assert.Equal(new ImageHeader(40, 30, Header(bytes).Format), Header(bytes));
        var decoded = Decode(bytes).Image;
        Assert.Equal((40, 30), (decoded.Width, decoded.Height));
        double mean = decoded.Pixels.Zip(image.Pixels, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(mean <= tolerance, $"{format}: mean error {mean:g3}");
    }

    [Fact]
    public void TiffDecodesThroughLibTiff()
    {
        var image = TestData.Pattern(21, 9);
        var stream = new MemoryStream();
        using (var tiff = Tiff.ClientOpen("mem", "w", stream, new TiffStream())!)
        {
            tiff.SetField(TiffTag.IMAGEWIDTH, 21); tiff.SetField(TiffTag.IMAGELENGTH, 9);
            tiff.SetField(TiffTag.SAMPLESPERPIXEL, 3); tiff.SetField(TiffTag.BITSPERSAMPLE, 8);
            tiff.SetField(TiffTag.PHOTOMETRIC, Photometric.RGB); tiff.SetField(TiffTag.PLANARCONFIG, PlanarConfig.CONTIG);
            tiff.SetField(TiffTag.ROWSPERSTRIP, 9);
            for (int y = 0; y < 9; y++) tiff.WriteScanline(image.Pixels.AsSpan(y * 21 * 3, 21 * 3).ToArray(), y);
            tiff.WriteDirectory();
            tiff.Flush();
        }
        var bytes = stream.ToArray();
        Assert.Equal(new ImageHeader(21, 9, "tiff"), Header(bytes));
        Assert.Equal(image.Pixels, Decode(bytes).Image.Pixels);
    }

    [Fact]
    public void GifFirstFramePaletteMatchesPil()
    {
        // A 13×11 palette GIF and its PIL convert('RGB') pixels, recorded once with PIL 9.4.
        var gif = Convert.FromBase64String("R0lGODdhDQALAIMAAMD1KrPoHY7D+J7TCIG263Sp3mSZzlGGu/MoXeMYTdYLQDNonShdkhpPhAk+cwAAACwAAAAADQALAAAIcwAdMDhQQECABAIJDgBggMBBBwsMCACQoEHEgw0OOKyoEaMDjQAQLCgwgONEAwFEFkg5kmUBAB9LjoR5oCQDBi8doERQM8ECAgqAMhBKVMFPowJ4BtAJoEEBowsGIDAAgEHSAwEaEEiQ1IDRAQ62HqgqICAAOw==");
        var expected = TestData.Hex("093e73285d925186bb74a9de8ec3f8b3e81de3184d093e73285d925186bb74a9de9ed308c0f52a6499ce81b6ebb3e81de3184d093e7333689d6499ce8ec3f8c0f52ae3184d1a4f8433689d6499ceb3e81de3184d1a4f845186bb81b6ebb3e81de3184d1a4f845186bb81b6ebb3e81de3184d1a4f84093e735186bb81b6ebc0f52af3285d33689d74a9de9ed308e3184d1a4f845186bb8ec3f8c0f52a6499ceb3e81df3285d33689d74a9deb3e81df3285d33689d74a9deb3e81df3285d33689d74a9dec0f52a093e735186bb9ed308e3184d33689d74a9dec0f52a093e735186bb9ed308e3184d285d92285d9274a9dec0f52a093e736499ceb3e81df3285d5186bb9ed308e3184d33689d81b6ebd60b4081b6ebd60b40285d9281b6ebd60b40285d9281b6ebd60b40285d9281b6ebd60b4033689d81b6ebd60b4033689d8ec3f8f3285d5186bbb3e81d093e736499cec0f52a1a4f8474a9ded60b4033689d33689d9ed308f3285d6499cec0f52a285d928ec3f8f3285d5186bbb3e81d1a4f8481b6ebe3184d8ec3f8f3285d6499ced60b4033689d9ed308093e7381b6ebe3184d5186bbc0f52a285d928ec3f8");
        Assert.Equal(expected, Decode(gif).Image.Pixels);
    }

    [Fact]
    public void SixteenBitGreyBecomesEightBitRgb()
    {
        // 6×4 16-bit greyscale PNG with values 2731·i, i = 0..23 (PIL writes it; PIL itself clips instead of scaling).
        var png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAYAAAAEEAAAAADY/83cAAAAJElEQVR4nGNkYOBazb2aezXXau7VLA5MXEzcTNxMXEzcTLg5AL8WBR2O8zWhAAAAAElFTkSuQmCC");
        var image = Decode(png).Image;
        for (int i = 0; i < 24; i++)
        {
            Assert.Equal(image.Pixels[3 * i], image.Pixels[3 * i + 1]);
            Assert.Equal(image.Pixels[3 * i], image.Pixels[3 * i + 2]);
            Assert.InRange(image.Pixels[3 * i], 2731.0 * i / 257 - 1, 2731.0 * i / 257 + 1);
        }
    }

    [Fact]
    public void CmykJpegIsConvertedLikePil()
    {
        // 8×8 CMYK JPEG (Adobe) and PIL's convert('RGB') of it, recorded once with PIL 9.4.
        var jpeg = Convert.FromBase64String("/9j/7gAOQWRvYmUAZAAAAAAA/9sAQwACAQEBAQECAQEBAgICAgIEAwICAgIFBAQDBAYFBgYGBQYGBgcJCAYHCQcGBggLCAkKCgoKCgYICwwLCgwJCgoK/8AAFAgACAAIBEMRAE0RAFkRAEsRAP/EAB8AAAEFAQEBAQEBAAAAAAAAAAABAgMEBQYHCAkKC//EALUQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+v/aAA4EQwBNAFkASwAAPwCt8LPAngTUPB0vwv8ADHhf+wZ5/D8+lf2Domiy6FpUyX2j3w8hbDe0l79qisLW9hg1KbUL4JeyBNCeGbabeu33wr0+1vPAl9438Pp4YuPtH21be+gtdEi07S9dsZJt+jiGeO1+xyteb/tllrGox20NrLff2YVjlW/rHiD4mwwJ4V1Lw3qDy6NqEmoQDxXp9lqOmJqel6XqSO7acsR0mzlt4DYfbYILaCC2nuJY59dhllmjP7+V/9k=");
        var pil = TestData.Hex("00366a295a90487fb66ea5d892c9febeed23db12460538705d8fc688baefb0e819e4154a0c3e783172a06796cd8ec5f7b2ec1fea20571d50874f85b781b7eab5e622eb1e531a4f8514457b4b7eb184bbefbff62bfa2b64346a9b6aa4d6a8dd116aa2d8abe316ee235930649a70a2d8b1e61bf1275d33679dcafb2e0e44795a8cc29ed606e81c532f649a74abdec0f52b21558b71aadebdf1270e427b5e94c6ade318ff31694980b47eb4e8d2023b2a629781b3e5d409412b609482b5ead70c42");
        var ours = Decode(jpeg).Image.Pixels;
        double mean = ours.Zip(pil, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(mean < 3, $"mean difference to PIL {mean:g3}");
    }

    [Theory]
    [InlineData(1, 40, 20, 0, 0)]     // upright: red left
    [InlineData(3, 40, 20, 39, 19)]   // rotated 180°: red at the right
    [InlineData(6, 20, 40, 0, 0)]     // rotate 90° clockwise to display: the left half ends up on top
    [InlineData(8, 20, 40, 0, 39)]    // rotate 90° counter-clockwise: the left half ends up at the bottom
    public void ExifOrientationIsApplied(ushort orientation, int w, int h, int redX, int redY)
    {
        var raw = new RgbImage(40, 20);
        for (int y = 0; y < 20; y++)
            for (int x = 0; x < 40; x++)
                raw.Pixels[(y * 40 + x) * 3 + (x < 20 ? 0 : 2)] = 255;
        var jpeg = TestData.WithExifOrientation(TestData.Encode(raw, SKEncodedImageFormat.Jpeg), orientation);
        Assert.Equal((w, h), (Header(jpeg).Width, Header(jpeg).Height));
        var image = Decode(jpeg).Image;
        Assert.Equal((w, h), (image.Width, image.Height));
        Assert.True(image[redX, redY].R > 200 && image[redX, redY].B < 60, $"pixel ({redX},{redY}) = {image[redX, redY]} is not red");
        Assert.True(image[w - 1 - redX, h - 1 - redY].B > 200, "the opposite corner is not blue");
    }

    [Fact]
    public void DctScaledJpegDecodeIsAnEighthMultiple()
    {
        var image = SynthImages.Make(1, 0, 200, 200);
        using var data = SKData.CreateCopy(TestData.Encode(image, SKEncodedImageFormat.Jpeg));
        var decoded = ImageCodec.Decode(data, "x", eighths: 3);
        Assert.Equal(3 / 8.0, decoded.Scale);
        Assert.Equal(((image.Width * 3 + 7) / 8, (image.Height * 3 + 7) / 8), (decoded.Image.Width, decoded.Image.Height));
    }

    [Theory]
    [InlineData(1, 8)]
    [InlineData(1, 2)]
    [InlineData(6, 4)]
    [InlineData(3, 1)]
    public void RegionDecodeEqualsTheSameRegionOfAWholeDecode(ushort orientation, int eighths)
    {
        var jpeg = TestData.WithExifOrientation(TestData.Encode(SynthImages.Make(4, 0, 300, 420), SKEncodedImageFormat.Jpeg, 90), orientation);
        using var data = SKData.CreateCopy(jpeg);
        var whole = ImageCodec.Decode(data, "x", eighths).Image;
        var rng = new SampleRng(8, orientation, eighths);
        for (int i = 0; i < 6; i++)
        {
            int nw = (int)(whole.Width * 8 / eighths), nh = (int)(whole.Height * 8 / eighths);
            double x0 = rng.Uniform(0, nw - 40), y0 = rng.Uniform(0, nh - 40), x1 = x0 + rng.Uniform(8, 120), y1 = y0 + rng.Uniform(8, 120);
            var region = ImageCodec.DecodeRegion(data, "x", eighths, x0, y0, x1, y1);
            Assert.Equal(eighths / 8.0, region.Scale);
            Assert.True(region.X <= x0 * region.Scale && region.Y <= y0 * region.Scale);
            Assert.True(region.X + region.Image.Width >= Math.Min(whole.Width, x1 * region.Scale));
            Assert.True(region.Y + region.Image.Height >= Math.Min(whole.Height, y1 * region.Scale));
            Assert.Equal(whole.Crop(region.X, region.Y, region.Image.Width, region.Image.Height).Pixels, region.Image.Pixels);
        }
    }

    [Fact]
    public void IndexReadsHeadersOnlyAndMatchesTheDecodedSizes()
    {
        using var dir = new TempDir();
        SynthImages.WriteSet(dir["set"], 6, 20, 90, 4);
        // A JPEG whose entropy-coded data is cut off: the header alone still gives its size.
        var jpeg = TestData.Encode(SynthImages.Make(9, 0, 64, 64), SKEncodedImageFormat.Jpeg);
        Directory.CreateDirectory(dir["set/sub"]);
        File.WriteAllBytes(dir["set/sub/cut.jpg"], jpeg[..(jpeg.Length / 2)]);
        using var source = ImageSource.Open(dir["set"], useCache: false);
        Assert.Equal(7, source.Images.Count);
        Assert.Equal(source.Images.Select(i => i.Path).Order(StringComparer.Ordinal), source.Images.Select(i => i.Path));
        var cut = Assert.Single(source.Images, i => i.Path == "sub/cut.jpg");
        Assert.Equal((64, 64), (cut.Width, cut.Height));
        foreach (var entry in source.Images.Where(i => i != cut))
        {
            var image = source.Decode(entry).Image;
            Assert.Equal((image.Width, image.Height), (entry.Width, entry.Height));
        }
        var e = Assert.Throws<AnyResException>(() => source.Decode(cut));
        Assert.Contains("cut.jpg", e.Message);
    }

    [Fact]
    public void CachedIndexNoticesAddedRemovedAndChangedFiles()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["a.png"], TestData.Encode(TestData.Pattern(10, 12), SKEncodedImageFormat.Png));
        File.WriteAllBytes(dir["b.png"], TestData.Encode(TestData.Pattern(14, 12), SKEncodedImageFormat.Png));
        using (var s = ImageSource.Open(dir.Path)) Assert.Equal(2, s.Images.Count);
        Assert.True(File.Exists(dir[ImageSource.IndexFileName]));

        File.WriteAllBytes(dir["c.png"], TestData.Encode(TestData.Pattern(16, 12), SKEncodedImageFormat.Png));
        File.Delete(dir["a.png"]);
        File.WriteAllBytes(dir["b.png"], TestData.Encode(TestData.Pattern(30, 31), SKEncodedImageFormat.Png));
        using (var s = ImageSource.Open(dir.Path))
            Assert.Equal(new[] { new ImageEntry("b.png", 30, 31), new ImageEntry("c.png", 16, 12) }, s.Images);

        // Unchanged size and time: the cached header is trusted (the file is not re-read).
        var stamp = File.GetLastWriteTimeUtc(dir["c.png"]);
        var bytes = File.ReadAllBytes(dir["c.png"]);
        File.WriteAllBytes(dir["c.png"], new byte[bytes.Length]);
        File.SetLastWriteTimeUtc(dir["c.png"], stamp);
        using (var s = ImageSource.Open(dir.Path)) Assert.Equal(2, s.Images.Count);
        File.SetLastWriteTimeUtc(dir["c.png"], stamp.AddSeconds(5));
        using (var s = ImageSource.Open(dir.Path)) Assert.Single(s.Bad);
    }

    [Fact]
    public void EachBadInputGetsOneLineNamingTheFileAndTheReason()
    {
        using var dir = new TempDir();
        var good = TestData.Encode(TestData.Pattern(8, 8), SKEncodedImageFormat.Png);
        File.WriteAllBytes(dir["good.png"], good);
        File.WriteAllBytes(dir["garbage.jpg"], "this is not an image, just some text"u8.ToArray());
        File.WriteAllBytes(dir["empty.png"], []);
        File.WriteAllBytes(dir["huge.png"], TestData.PngHeaderOnly(30000, 20000));
        File.WriteAllBytes(dir["notes.txt"], "ignored"u8.ToArray());
        using var source = ImageSource.Open(dir.Path, useCache: false);
        Assert.Equal(["good.png"], source.Images.Select(i => i.Path));
        Assert.Equal(1, source.IgnoredFiles);
        var reasons = source.Bad.ToDictionary(b => b.Path, b => b.Reason);
        Assert.Equal(["empty.png", "garbage.jpg", "huge.png"], reasons.Keys.Order());
        Assert.Contains("empty", reasons["empty.png"]);
        Assert.Contains("not a decodable image", reasons["garbage.jpg"]);
        Assert.Contains("500 MP", reasons["huge.png"]);
        Assert.All(reasons.Values, r => Assert.DoesNotContain('\n', r));
    }

    [Fact]
    public void MissingPathAndEmptyFolderAreErrorsNamingThem()
    {
        using var dir = new TempDir();
        var missing = Assert.Throws<AnyResException>(() => ImageSource.Open(dir["nope"]));
        Assert.Contains("nope", missing.Message);
        Assert.Contains("no such file", missing.Message);
        Directory.CreateDirectory(dir["empty"]);
        var empty = Assert.Throws<AnyResException>(() => ImageSource.OpenNonEmpty(dir["empty"]));
        Assert.Contains("empty", empty.Message);
        Assert.Contains("no images", empty.Message);
    }

    [Fact]
    public void ZipEntriesAreReadAndUnsafePathsRejected()
    {
        using var dir = new TempDir();
        var zipPath = dir["set.zip"];
        using (var zip = ZipFile.Open(zipPath, ZipArchiveMode.Create))
        {
            foreach (var name in new[] { "b/one.png", "a.png", "../evil.png", "/abs.png" })
            {
                using var s = zip.CreateEntry(name).Open();
                s.Write(TestData.Encode(TestData.Pattern(9, 7), SKEncodedImageFormat.Png));
            }
            zip.CreateEntry("README").Open().Dispose();
        }
        using var source = ImageSource.Open(zipPath);
        Assert.Equal(["a.png", "b/one.png"], source.Images.Select(i => i.Path));
        Assert.Equal(TestData.Pattern(9, 7).Pixels, source.Decode(source.Images[1]).Image.Pixels);
        Assert.Equal(["../evil.png", "/abs.png"], source.Bad.Select(b => b.Path).Order(StringComparer.Ordinal));
        Assert.All(source.Bad, b => Assert.Contains("unsafe path", b.Reason));
        Assert.EndsWith("set.zip:a.png", source.DisplayName("a.png"));
    }
}
