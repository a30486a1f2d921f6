using SkiaSharp;

namespace AnyRes.Web.Tests;

static class Pngs
{
    /// <summary>Width, height and the RGB bytes (H×W×3) of a PNG.</summary>
    public static (int Width, int Height, byte[] Rgb) Decode(byte[] png)
    {
        using var bitmap = SKBitmap.Decode(png) ?? throw new InvalidDataException("not a PNG");
        var rgb = new byte[bitmap.Width * bitmap.Height * 3];
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++)
            {
                var c = bitmap.GetPixel(x, y);
                int i = (y * bitmap.Width + x) * 3;
                (rgb[i], rgb[i + 1], rgb[i + 2]) = (c.Red, c.Green, c.Blue);
            }
        return (bitmap.Width, bitmap.Height, rgb);
    }

    /// <summary>Standard deviation of the grey levels (0 for a blank image).</summary>
    public static double GreyDeviation(byte[] png)
    {
        var (_, _, rgb) = Decode(png);
        var grey = Enumerable.Range(0, rgb.Length / 3).Select(i => (rgb[3 * i] + rgb[3 * i + 1] + rgb[3 * i + 2]) / 3.0).ToArray();
        double mean = grey.Average();
        return Math.Sqrt(grey.Sum(g => (g - mean) * (g - mean)) / grey.Length);
    }
}
