using AnyRes.Synthesis;
using SkiaSharp;

namespace AnyRes.Tests.Synthesis;

/// <summary>The PNG and GIF writers, read back by an independent decoder (SkiaSharp).</summary>
public class ImageFileTests
{
    static byte[] RandomBytes(int n, int seed)
    {
        var bytes = new byte[n];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    static SKBitmap Decode(byte[] file, int frame = 0)
    {
        using var codec = SKCodec.Create(new MemoryStream(file)) ?? throw new Xunit.Sdk.XunitException("decoder rejected the file");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels(), new SKCodecOptions(frame));
        Assert.Equal(SKCodecResult.Success, result);
        return bitmap;
    }

    [Fact]
    public void Crc32MatchesTheCheckValue() => Assert.Equal(0xCBF43926u, Crc32.Append(0, "123456789"u8));

    [Theory]
    [InlineData(3, 37, 300)]   // > 64 KiB of noise: several IDAT chunks
    [InlineData(1, 5, 3)]
    [InlineData(3, 1, 1)]
    public void PngRoundTripsExactly(int channels, int width, int height)
    {
        var pixels = RandomBytes(width * height * channels, width);
        var stream = new MemoryStream();
        using (var png = new PngWriter(stream, width, height, channels))
        {
            for (int y = 0; y < height; y++) png.WriteRow(pixels.AsSpan(y * width * channels, width * channels));
            png.Finish();
        }
        using var bitmap = Decode(stream.ToArray());
        Assert.Equal((width, height), (bitmap.Width, bitmap.Height));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                var color = bitmap.GetPixel(x, y);
                int i = (y * width + x) * channels;
                var expected = channels == 3 ? (pixels[i], pixels[i + 1], pixels[i + 2]) : (pixels[i], pixels[i], pixels[i]);
                Assert.Equal(expected, (color.Red, color.Green, color.Blue));
            }
    }

    [Fact]
    public void PngRefusesToFinishShort()
    {
        using var png = new PngWriter(new MemoryStream(), 4, 3, 3);
        png.WriteRow(new byte[12]);
        Assert.Throws<InvalidOperationException>(() => png.Finish());
    }

    [Fact]
    public void RenderedPngHoldsTheRenderedPixels()
    {
        var synth = new FieldSynthesizer(32);
        var ws = FieldSynthesizer.Latent(0.1, 0.2, 0.3);
        var view = CanvasView.FullFrame(90, 50);
        var path = Path.Combine(Directory.CreateTempSubdirectory("anyres-synth").FullName, "out.png");
        Rendering.RenderPng(synth, ws, view, path);
        var expected = Rendering.RenderImage(synth, ws, view).ToRgbBytes();
        using var bitmap = Decode(File.ReadAllBytes(path));
        for (int y = 0; y < 50; y++)
            for (int x = 0; x < 90; x++)
            {
                var c = bitmap.GetPixel(x, y);
                int i = (y * 90 + x) * 3;
                Assert.Equal((expected[i], expected[i + 1], expected[i + 2]), (c.Red, c.Green, c.Blue));
            }
    }

    [Fact]
    public void PixelConversionIsSg3s()
    {
        Assert.Equal(new byte[] { 0, 0, 0, 128, 255, 255, 0 }, new[] { -2f, -1f, -0.999f, 0f, 0.997f, 3f, float.NaN }.Select(Pixels.ToByte));
        Assert.Equal(254, Pixels.ToByte(0.99f));   // 0.99·127.5 + 128 = 254.2 → 254
    }

    [Fact]
    public void GifFramesDecodeToTheDitheredPalette()
    {
        const int w = 120, h = 90;
        // Noise defeats LZW's dictionary, so the 4096-code table fills and resets many times; the gradient frame compresses.
        var noise = RandomBytes(w * h * 3, 7);
        var gradient = new byte[w * h * 3];
        for (int i = 0; i < w * h; i++) (gradient[i * 3], gradient[i * 3 + 1], gradient[i * 3 + 2]) = ((byte)(i % w * 2), (byte)(i / w * 2), 77);
        var stream = new MemoryStream();
        var gif = new GifWriter(stream, w, h);
        gif.AddFrame(noise, 4);
        gif.AddFrame(gradient, 4);
        gif.Finish();
        var file = stream.ToArray();

        using (var codec = SKCodec.Create(new MemoryStream(file)))
        {
            Assert.Equal(2, codec.FrameCount);
            Assert.Equal(40, codec.FrameInfo[1].Duration);
            Assert.Equal(-1, codec.RepetitionCount);   // Skia: -1 = loop forever
        }
        var palette = GifWriter.Palette();
        foreach (var (frame, rgb) in new[] { (0, noise), (1, gradient) })
        {
            var indices = GifWriter.Quantize(rgb, w, h);
            using var bitmap = Decode(file, frame);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int k = indices[y * w + x] * 3;
                    var c = bitmap.GetPixel(x, y);
                    Assert.Equal((palette[k], palette[k + 1], palette[k + 2]), (c.Red, c.Green, c.Blue));
                }
        }
    }

    [Fact]
    public void DitheringKeepsTheMeanColour()
    {
        var palette = GifWriter.Palette();
        foreach (byte v in new byte[] { 0, 30, 100, 173, 255 })
        {
            var flat = Enumerable.Repeat(v, 8 * 8 * 3).ToArray();
            var indices = GifWriter.Quantize(flat, 8, 8);
            for (int c = 0; c < 3; c++)
                Assert.InRange(indices.Average(i => palette[i * 3 + c]), v - 1.5, v + 1.5);
        }
    }
}
