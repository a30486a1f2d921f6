using System.Runtime.InteropServices;
using AnyRes.Core;
using SkiaSharp;

namespace AnyRes.Data;

/// <summary>
/// The built-in dataset: deterministic images at varied native sizes with structure at every scale — fractal value-noise
/// terrain through a colour map with hill shading, sharp-edged shapes from a few pixels to a third of the image, striped fills
/// and per-pixel grain — so that downsampling measurably removes detail.
/// </summary>
public static class SynthImages
{
    /// <summary>Fractal (spectral) exponent: octave amplitude ∝ cell size^Roughness.</summary>
    const double Roughness = 0.8;

    static readonly (float, float, float)[][] Palettes =
    [
        [(20, 40, 110), (40, 110, 170), (220, 210, 150), (60, 140, 50), (110, 90, 60), (250, 250, 250)],
        [(10, 10, 10), (90, 10, 20), (200, 50, 10), (250, 160, 30), (255, 240, 160), (255, 255, 255)],
        [(5, 20, 40), (20, 80, 90), (40, 160, 130), (190, 220, 170), (240, 240, 220), (120, 110, 160)],
        [(60, 20, 80), (120, 40, 120), (210, 90, 110), (240, 170, 90), (250, 230, 180), (80, 160, 200)],
    ];

    static readonly string[] PaletteNames = ["earth", "fire", "sea", "dusk"];
    static readonly string[] ShapeNames = ["discs", "boxes", "triangles"];

    /// <summary>
    /// Name of class <paramref name="k"/> of a conditional set: its palette and shape kind, prefixed by the index so that the
    /// folders sort in class order (00-earth-discs, 01-fire-boxes, ...).
    /// </summary>
    public static string ClassName(int k) => $"{k:D2}-{PaletteNames[k % PaletteNames.Length]}-{ShapeNames[k % ShapeNames.Length]}";

    /// <summary>
    /// Image <paramref name="index"/> of the set with this seed: size uniform in [minSize, maxSize] per axis. An image of class
    /// <paramref name="classIndex"/> has the class's palette and only its kind of shape; without a class both vary per image.
    /// </summary>
    /// <param name="panoramaTurn">For a 360° panorama: width / height of one turn (360 / fov). The height is drawn as a size
    /// and the width follows; terrain, shading and shapes wrap around, so the right edge continues into the left.</param>
    public static RgbImage Make(ulong seed, int index, int minSize, int maxSize, int? classIndex = null, double? panoramaTurn = null)
    {
        var rng = new SampleRng(seed, index, 0x5157);
        int w = rng.Int(minSize, maxSize), h = rng.Int(minSize, maxSize);
        bool wrap = panoramaTurn is not null;
        if (panoramaTurn is double turn) w = (int)Math.Max(1, Math.Round(h * turn));
        var height = Terrain(rng, w, h, wrap);
        var image = new RgbImage(w, h);
        Colourise(rng, height, image, classIndex % Palettes.Length, wrap);
        int shapes = rng.Int(6, 24);
        for (int s = 0; s < shapes; s++) Shape(rng, image, classIndex % ShapeNames.Length, wrap);
        Grain(rng, image);
        return image;
    }

    /// <summary>
    /// Writes <paramref name="count"/> PNGs synth_00000.png … into <paramref name="folder"/> (each atomically); returns their paths.
    /// With <paramref name="classes"/> &gt; 0 a folder per class (<see cref="ClassName"/>): image i is of class i mod classes.
    /// </summary>
    public static IReadOnlyList<string> WriteSet(string folder, int count, int minSize, int maxSize, ulong seed, int classes = 0, double? panoramaTurn = null)
    {
        if (panoramaTurn is <= 0 or > 360) throw new AnyResException($"a panorama's turn must span 1..360 frames, got {panoramaTurn}");
        if (count < 1) throw new AnyResException($"--count must be positive, got {count}");
        if (minSize < 1 || maxSize < minSize) throw new AnyResException($"need 1 <= --min-size <= --max-size, got {minSize}..{maxSize}");
        if (classes < 0 || classes > 99 || (classes > 0 && count < classes)) throw new AnyResException($"--classes {classes}: expected 0..99 and at most --count ({count})");
        AtomicFile.CreateFolder(folder);
        for (int k = 0; k < classes; k++) Directory.CreateDirectory(Path.Combine(folder, ClassName(k)));
        var paths = new string[count];
        Parallel.For(0, count, i =>
        {
            int? k = classes > 0 ? i % classes : null;
            paths[i] = Path.Combine(k is int c ? Path.Combine(folder, ClassName(c)) : folder, $"synth_{i:D5}.png");
            var png = EncodePng(Make(seed, i, minSize, maxSize, k, panoramaTurn));
            AtomicFile.WriteAllBytes(paths[i], png);
        });
        return paths;
    }

    public static byte[] EncodePng(RgbImage image) => Encode(image, SKEncodedImageFormat.Png, 100);

    public static byte[] Encode(RgbImage image, SKEncodedImageFormat format, int quality)
    {
        var rgba = new byte[image.Width * image.Height * 4];
        for (int i = 0, n = image.Width * image.Height; i < n; i++)
        {
            rgba[4 * i] = image.Pixels[3 * i]; rgba[4 * i + 1] = image.Pixels[3 * i + 1]; rgba[4 * i + 2] = image.Pixels[3 * i + 2]; rgba[4 * i + 3] = 255;
        }
        var handle = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        try
        {
            using var pixmap = new SKPixmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque), handle.AddrOfPinnedObject());
            using var data = pixmap.Encode(format, quality) ?? throw new InvalidOperationException($"Skia cannot encode {format}");
            return data.ToArray();
        }
        finally { handle.Free(); }
    }

    /// <summary>
    /// Octaves of smoothly interpolated lattice noise, cells from half the image down to 2 px, normalised to [0, 1]. Wrapping:
    /// a whole number of cells spans the width and the last lattice column is the first, so the field is periodic along x.
    /// </summary>
    static float[] Terrain(SampleRng rng, int w, int h, bool wrap)
    {
        var field = new float[w * h];
        for (int cell = Math.Max(w, h) / 2; cell >= 2; cell /= 2)
        {
            float amp = (float)Math.Pow(cell, Roughness);
            int gw = w / cell + 2, gh = h / cell + 2;
            var grid = new float[gw * gh];
            for (int i = 0; i < grid.Length; i++) grid[i] = (float)rng.NextDouble();
            float inv = 1f / cell;
            int cellsX = Math.Max(1, (int)Math.Round((double)w / cell));
            float invX = wrap ? cellsX / (float)w : inv;
            for (int y = 0; y < h; y++)
            {
                float fy = y * inv; int iy = (int)fy; float ty = fy - iy; ty = ty * ty * (3 - 2 * ty);
                int r0 = iy * gw, r1 = r0 + gw;
                for (int x = 0; x < w; x++)
                {
                    float fx = x * invX; int ix = (int)fx; float tx = fx - ix; tx = tx * tx * (3 - 2 * tx);
                    int next = wrap ? (ix + 1) % cellsX : ix + 1;
                    float top = grid[r0 + ix] + (grid[r0 + next] - grid[r0 + ix]) * tx;
                    float bottom = grid[r1 + ix] + (grid[r1 + next] - grid[r1 + ix]) * tx;
                    field[y * w + x] += amp * (top + (bottom - top) * ty);
                }
            }
        }
        float lo = field.Min(), hi = field.Max(), scale = hi > lo ? 1 / (hi - lo) : 0;
        for (int i = 0; i < field.Length; i++) field[i] = (field[i] - lo) * scale;
        return field;
    }

    static void Colourise(SampleRng rng, float[] height, RgbImage image, int? fixedPalette, bool wrap)
    {
        int drawn = rng.Int(0, Palettes.Length - 1);   // drawn either way, so unlabelled sets stay as they were
        var palette = Palettes[fixedPalette ?? drawn];
        float shading = (float)rng.Uniform(2, 8) * Math.Max(image.Width, image.Height) / 256f;
        int w = image.Width, h = image.Height, stops = palette.Length - 1;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                float v = height[y * w + x];
                int right = wrap ? (x + 1) % w : Math.Min(x + 1, w - 1), left = wrap ? (x + w - 1) % w : Math.Max(x - 1, 0);
                float dx = height[y * w + right] - height[y * w + left];
                float dy = height[Math.Min(y + 1, h - 1) * w + x] - height[Math.Max(y - 1, 0) * w + x];
                float light = Math.Clamp(1 + shading * (dy - dx), 0.35f, 1.4f);
                float t = v * stops; int k = Math.Min((int)t, stops - 1); t -= k;
                var (r0, g0, b0) = palette[k]; var (r1, g1, b1) = palette[k + 1];
                int o = 3 * (y * w + x);
                image.Pixels[o] = (byte)Math.Clamp((r0 + (r1 - r0) * t) * light, 0, 255);
                image.Pixels[o + 1] = (byte)Math.Clamp((g0 + (g1 - g0) * t) * light, 0, 255);
                image.Pixels[o + 2] = (byte)Math.Clamp((b0 + (b1 - b0) * t) * light, 0, 255);
            }
    }

    /// <summary>
    /// A hard-edged disc, rectangle or triangle, solid or striped, sized log-uniformly from 3 px to a third of the image; when
    /// wrapping, the part beyond one edge enters at the other.
    /// </summary>
    static void Shape(SampleRng rng, RgbImage image, int? fixedKind, bool wrap)
    {
        int w = image.Width, h = image.Height;
        double size = Math.Exp(rng.Uniform(Math.Log(3), Math.Log(Math.Max(4, Math.Min(w, h) / 3.0))));
        double cx = rng.Uniform(0, w), cy = rng.Uniform(0, h), angle = rng.Uniform(0, Math.PI);
        int kind = rng.Int(0, 2);
        kind = fixedKind ?? kind;
        var colour = ((byte)rng.Int(0, 255), (byte)rng.Int(0, 255), (byte)rng.Int(0, 255));
        var second = ((byte)rng.Int(0, 255), (byte)rng.Int(0, 255), (byte)rng.Int(0, 255));
        double period = rng.Int(0, 1) == 0 ? 0 : rng.Uniform(2, 6);
        double c = Math.Cos(angle), s = Math.Sin(angle);
        foreach (var copy in wrap ? new[] { cx - w, cx, cx + w } : [cx])
            Paint(image, copy, cy, size, c, s, kind, period, colour, second);
    }

    static void Paint(RgbImage image, double cx, double cy, double size, double c, double s, int kind, double period, (byte, byte, byte) colour, (byte, byte, byte) second)
    {
        int w = image.Width, h = image.Height;
        int x0 = Math.Max(0, (int)Math.Floor(cx - size)), x1 = Math.Min(w - 1, (int)(cx + size)), y0 = Math.Max(0, (int)(cy - size)), y1 = Math.Min(h - 1, (int)(cy + size));
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++)
            {
                double u = (x + 0.5 - cx) * c + (y + 0.5 - cy) * s, v = -(x + 0.5 - cx) * s + (y + 0.5 - cy) * c;
                bool inside = kind switch
                {
                    0 => u * u + v * v <= size * size,
                    1 => Math.Abs(u) <= size && Math.Abs(v) <= size * 0.6,
                    _ => v <= size * 0.5 && v >= -size + 1.7320508 * Math.Abs(u) * 0.9,
                };
                if (!inside) continue;
                var (r, g, b) = period > 0 && ((int)Math.Floor(u / period) & 1) == 1 ? second : colour;
                int o = 3 * (y * w + x);
                image.Pixels[o] = r; image.Pixels[o + 1] = g; image.Pixels[o + 2] = b;
            }
    }

    /// <summary>Per-pixel grain, the finest scale of detail.</summary>
    static void Grain(SampleRng rng, RgbImage image)
    {
        int amplitude = rng.Int(4, 14);
        var px = image.Pixels;
        for (int i = 0; i < px.Length; i += 3)
        {
            ulong bits = rng.NextUInt64();
            for (int ch = 0; ch < 3; ch++, bits >>= 16)
                px[i + ch] = (byte)Math.Clamp(px[i + ch] + (int)(bits % (ulong)(2 * amplitude + 1)) - amplitude, 0, 255);
        }
    }
}
