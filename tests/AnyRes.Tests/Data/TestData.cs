using AnyRes.Data;
using SkiaSharp;

namespace AnyRes.Tests.Data;

/// <summary>A temporary folder removed on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("anyres-test-").FullName;
    public string this[string name] => System.IO.Path.Combine(Path, name);
    public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
}

public static class TestData
{
    /// <summary>The 13×11 test pattern used for the recorded PIL results: (37x + 91y + 53c + 7xy) mod 256.</summary>
    public static RgbImage Pattern(int width = 13, int height = 11)
    {
        var image = new RgbImage(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                for (int c = 0; c < 3; c++)
                    image.Pixels[(y * width + x) * 3 + c] = (byte)((x * 37 + y * 91 + c * 53 + x * y * 7) % 256);
        return image;
    }

    public static byte[] Encode(RgbImage image, SKEncodedImageFormat format, int quality = 95) => SynthImages.Encode(image, format, quality);

    /// <summary>A JPEG with an EXIF APP1 segment carrying only the orientation tag, spliced after SOI.</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        byte[] tiff = [(byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, (byte)orientation, 0, 0, 0, 0, 0, 0, 0];
        var payload = "Exif\0\0"u8.ToArray().Concat(tiff).ToArray();
        int length = payload.Length + 2;
        byte[] app1 = [0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. payload];
        return [.. jpeg[..2], .. app1, .. jpeg[2..]];
    }

    /// <summary>A smooth colour gradient (lossy codecs keep it well).</summary>
    public static RgbImage Smooth(int width, int height)
    {
        var image = new RgbImage(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                (image.Pixels[(y * width + x) * 3], image.Pixels[(y * width + x) * 3 + 1], image.Pixels[(y * width + x) * 3 + 2]) =
                    ((byte)(40 + 4 * x), (byte)(200 - 5 * y), (byte)(90 + 2 * x + 2 * y));
        return image;
    }

    /// <summary>A 24-bit bottom-up BMP (Skia has no BMP encoder).</summary>
    public static byte[] Bmp(RgbImage image)
    {
        int stride = (image.Width * 3 + 3) & ~3, size = 54 + stride * image.Height;
        var b = new byte[size];
        b[0] = (byte)'B'; b[1] = (byte)'M';
        BitConverter.TryWriteBytes(b.AsSpan(2), size); BitConverter.TryWriteBytes(b.AsSpan(10), 54); BitConverter.TryWriteBytes(b.AsSpan(14), 40);
        BitConverter.TryWriteBytes(b.AsSpan(18), image.Width); BitConverter.TryWriteBytes(b.AsSpan(22), image.Height);
        BitConverter.TryWriteBytes(b.AsSpan(26), (short)1); BitConverter.TryWriteBytes(b.AsSpan(28), (short)24);
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
            {
                var (r, g, bl) = image[x, y];
                int o = 54 + (image.Height - 1 - y) * stride + 3 * x;
                (b[o], b[o + 1], b[o + 2]) = (bl, g, r);
            }
        return b;
    }

    /// <summary>A PNG whose IHDR claims the given size, followed by an empty IDAT and IEND (valid CRCs): a decompression bomb's header.</summary>
    public static byte[] PngHeaderOnly(int width, int height) =>
        [0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10,
         .. Chunk("IHDR", [.. BigEndian(width), .. BigEndian(height), 8, 2, 0, 0, 0]), .. Chunk("IDAT", [0x78, 0x9C, 3, 0, 0, 0, 0, 1]), .. Chunk("IEND", [])];

    static byte[] Chunk(string type, byte[] data)
    {
        byte[] body = [.. System.Text.Encoding.ASCII.GetBytes(type), .. data];
        return [.. BigEndian(data.Length), .. body, .. BigEndian((int)Crc32(body))];
    }

    static byte[] BigEndian(int v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];

    static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }

    public static byte[] Hex(string hex) => Convert.FromHexString(hex);
}
