namespace AnyRes.Synthesis;

/// <summary>Receives a rendered image top to bottom: float pixels in [−1, 1], row-major, channels interleaved (H×W×C).</summary>
public interface IRowSink
{
    void WriteRows(ReadOnlySpan<float> pixels, int rowCount);
}

/// <summary>The generator's output convention turned into 8-bit pixels, exactly as SG3's gen_images: (x·127.5 + 128) clamped, truncated.</summary>
public static class Pixels
{
    public static byte ToByte(float x)
    {
        float v = x * 127.5f + 128f;
        return v >= 255f ? (byte)255 : v > 0f ? (byte)v : (byte)0;   // NaN lands on 0
    }

    public static void ToBytes(ReadOnlySpan<float> source, Span<byte> destination)
    {
        for (int i = 0; i < source.Length; i++) destination[i] = ToByte(source[i]);
    }
}

/// <summary>Keeps the whole image in memory (small images: tests, zoom frames).</summary>
public sealed class ImageBuffer(int width, int height, int channels) : IRowSink
{
    public int Width { get; } = width;
    public int Height { get; } = height;
    public int Channels { get; } = channels;
    /// <summary>H×W×C floats.</summary>
    public float[] Pixels { get; } = new float[(long)width * height * channels];
    public int RowsWritten { get; private set; }

    public void WriteRows(ReadOnlySpan<float> pixels, int rowCount)
    {
        if (RowsWritten + rowCount > Height) throw new InvalidOperationException("more rows than the image has");
        pixels[..(rowCount * Width * Channels)].CopyTo(Pixels.AsSpan(RowsWritten * Width * Channels));
        RowsWritten += rowCount;
    }

    public float this[int y, int x, int c] => Pixels[((long)y * Width + x) * Channels + c];

    /// <summary>8-bit RGB (grey expanded to three channels), H×W×3.</summary>
    public byte[] ToRgbBytes()
    {
        var rgb = new byte[(long)Width * Height * 3];
        for (long i = 0; i < (long)Width * Height; i++)
            for (int c = 0; c < 3; c++) rgb[i * 3 + c] = Synthesis.Pixels.ToByte(Pixels[i * Channels + (Channels == 3 ? c : 0)]);
        return rgb;
    }
}

/// <summary>Streams rows into a PNG as 8-bit pixels.</summary>
public sealed class PngRowSink(PngWriter png) : IRowSink
{
    readonly byte[] row = new byte[png.Width * png.Channels];

    public void WriteRows(ReadOnlySpan<float> pixels, int rowCount)
    {
        int stride = row.Length;
        for (int r = 0; r < rowCount; r++)
        {
            Pixels.ToBytes(pixels.Slice(r * stride, stride), row);
            png.WriteRow(row);
        }
    }
}
