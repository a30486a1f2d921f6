namespace AnyRes.Data;

/// <summary>An 8-bit RGB image, rows top to bottom, pixels interleaved (HWC).</summary>
public sealed class RgbImage
{
    public int Width { get; }
    public int Height { get; }
    public byte[] Pixels { get; }

    public RgbImage(int width, int height, byte[]? pixels = null)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"image size must be positive, got {width}x{height}");
        Width = width;
        Height = height;
        Pixels = pixels ?? new byte[checked(width * height * 3)];
        if (Pixels.Length != width * height * 3) throw new ArgumentException($"{Pixels.Length} bytes do not hold a {width}x{height} RGB image");
    }

    public int MinSide => Math.Min(Width, Height);

    public (byte R, byte G, byte B) this[int x, int y]
    {
        get { int i = (y * Width + x) * 3; return (Pixels[i], Pixels[i + 1], Pixels[i + 2]); }
    }

    public RgbImage Crop(int x, int y, int width, int height)
    {
        if (x < 0 || y < 0 || x + width > Width || y + height > Height)
            throw new ArgumentOutOfRangeException(nameof(x), $"crop {width}x{height}+{x}+{y} leaves the {Width}x{Height} image");
        var crop = new RgbImage(width, height);
        for (int r = 0; r < height; r++)
            Array.Copy(Pixels, ((y + r) * Width + x) * 3, crop.Pixels, r * width * 3, width * 3);
        return crop;
    }

    public RgbImage FlipX()
    {
        var flipped = new RgbImage(Width, Height);
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
                Array.Copy(Pixels, (y * Width + x) * 3, flipped.Pixels, (y * Width + Width - 1 - x) * 3, 3);
        return flipped;
    }
}
