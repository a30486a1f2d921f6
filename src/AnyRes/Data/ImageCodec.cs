using System.Runtime.InteropServices;
using AnyRes.Core;
using BitMiracle.LibTiff.Classic;
using SkiaSharp;

namespace AnyRes.Data;

/// <summary>Size of an image as displayed (EXIF orientation applied), read from its header only.</summary>
public readonly record struct ImageHeader(int Width, int Height, string Format)
{
    public int MinSide => Math.Min(Width, Height);
}

/// <summary>
/// Decodes JPEG, PNG, WebP, BMP, GIF (first frame) with Skia and TIFF with LibTiff.NET into 8-bit RGB: alpha dropped (not
/// composited, like PIL's convert('RGB')), palette/grey/CMYK/16-bit converted, no colour management, EXIF orientation applied.
/// </summary>
public static class ImageCodec
{
    /// <summary>Headers claiming more pixels than this are rejected before any decoding (decompression bombs).</summary>
    public const long MaxPixels = 500_000_000;

    public static readonly IReadOnlySet<string> Extensions =
        new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff" };

    public static bool HasImageExtension(string path) => Extensions.Contains(Path.GetExtension(path));

    public static ImageHeader ReadHeader(SKData data, string name)
    {
        if (IsTiff(data)) return WithTiff(data, name, tiff => CheckSize(name, Field(tiff, TiffTag.IMAGEWIDTH), Field(tiff, TiffTag.IMAGELENGTH), "tiff"));
        using var codec = OpenCodec(data, name);
        var (w, h) = Oriented(codec.Info.Width, codec.Info.Height, codec.EncodedOrigin);
        return CheckSize(name, w, h, codec.EncodedFormat.ToString().ToLowerInvariant());
    }

    /// <summary>
    /// Decodes the whole image. For JPEG, <paramref name="eighths"/> &lt; 8 asks libjpeg for a DCT-scaled decode at eighths/8 of the
    /// native size (pixel j then covers native pixels [8j/eighths, 8(j+1)/eighths)); other formats ignore it. The caller reads the
    /// scale actually used from <see cref="Decoded.Scale"/>.
    /// </summary>
    public static Decoded Decode(SKData data, string name, int eighths = 8)
    {
        var region = DecodeRegion(data, name, eighths, 0, 0, double.PositiveInfinity, double.PositiveInfinity);
        return new Decoded(region.Image, region.Scale);
    }

    /// <summary>
    /// Decodes the part of the image covering the native (upright) rectangle [x0, x1) × [y0, y1), plus a margin, at the JPEG DCT
    /// scale eighths/8. Baseline JPEGs are decoded only there (libjpeg column cropping, skipped rows, early stop), with a margin
    /// wide enough that the pixels equal those of a whole-image decode; other formats decode everything and crop.
    /// </summary>
    public static Region DecodeRegion(SKData data, string name, int eighths, double x0, double y0, double x1, double y1)
    {
        if (IsTiff(data))
        {
            var tiff = WithTiff(data, name, tiff => DecodeTiff(tiff, name));
            return Clip(tiff, 1, x0, y0, x1, y1, margin: 0, crop: true);
        }
        using var codec = OpenCodec(data, name);
        var origin = codec.EncodedOrigin;
        var (nw, nh) = Oriented(codec.Info.Width, codec.Info.Height, origin);
        CheckSize(name, nw, nh, "");
        double scale = 1;
        var size = new SKSizeI(codec.Info.Width, codec.Info.Height);
        bool jpeg = codec.EncodedFormat == SKEncodedImageFormat.Jpeg;
        if (eighths < 8 && jpeg)
        {
            var scaled = codec.GetScaledDimensions(eighths / 8f);
            // Skia picks the libjpeg scale ceil(8·desired)/8; use it only when it is exactly the one asked for.
            if (scaled.Width == CeilDiv(size.Width * eighths, 8) && scaled.Height == CeilDiv(size.Height * eighths, 8))
            {
                size = scaled;
                scale = eighths / 8.0;
            }
        }
        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var (ow, oh) = Oriented(size.Width, size.Height, origin);
        var want = ClipRect(ow, oh, scale, x0, y0, x1, y1, RegionMargin);
        if (!jpeg || (want.Width == ow && want.Height == oh))
        {
            var rgba = new byte[info.BytesSize];
            Check(name, codec, Pin(rgba, ptr => codec.GetPixels(info, ptr)));
            return new Region(Orient(rgba, size.Width, size.Height, 4, origin), scale, 0, 0);
        }
        // Decode a wider band and keep `want`: libjpeg's chroma upsampling replicates the edge pixels of a cropped decode.
        var band = ClipRect(ow, oh, 1, want.Left - RegionMargin, want.Top - RegionMargin, want.Right + RegionMargin, want.Bottom + RegionMargin, 0);
        // The upright rectangle in stored (raw) coordinates: orientations only flip and transpose, so its corners map to corners.
        var (ax, ay) = ToRaw(band.Left, band.Top, size.Width, size.Height, origin);
        var (bx, by) = ToRaw(band.Right - 1, band.Bottom - 1, size.Width, size.Height, origin);
        var raw = new SKRectI(Math.Min(ax, bx), Math.Min(ay, by), Math.Max(ax, bx) + 1, Math.Max(ay, by) + 1);
        var start = codec.StartScanlineDecode(info, new SKCodecOptions(new SKRectI(raw.Left, 0, raw.Right, size.Height)));
        if (start != SKCodecResult.Success) throw AnyResException.ForFile(name, $"cannot decode JPEG data ({start})");
        var rows = new byte[raw.Width * 4 * raw.Height];
        if (!codec.SkipScanlines(raw.Top)) throw AnyResException.ForFile(name, "truncated image data");
        int got = Pin(rows, ptr => codec.GetScanlines(ptr, raw.Height, raw.Width * 4));
        if (got != raw.Height) throw AnyResException.ForFile(name, "truncated image data");
        var decoded = Orient(rows, raw.Width, raw.Height, 4, origin);
        return new Region(decoded.Crop(want.Left - band.Left, want.Top - band.Top, want.Width, want.Height), scale, want.Left, want.Top);
    }

    /// <summary>Decoded columns/rows kept beyond the requested rectangle: more than libjpeg's chroma upsampling context.</summary>
    const int RegionMargin = 16;

    /// <summary>Part of an upright decoded image: pixel (0, 0) of <see cref="Image"/> is pixel (X, Y) of the image decoded at <see cref="Scale"/>.</summary>
    public readonly record struct Region(RgbImage Image, double Scale, int X, int Y);

    static SKRectI ClipRect(int width, int height, double scale, double x0, double y0, double x1, double y1, int margin)
    {
        int l = (int)Math.Max(0, Math.Floor(x0 * scale) - margin), t = (int)Math.Max(0, Math.Floor(y0 * scale) - margin);
        int r = (int)Math.Min(width, Math.Ceiling(Math.Min(x1 * scale, width)) + margin), b = (int)Math.Min(height, Math.Ceiling(Math.Min(y1 * scale, height)) + margin);
        return r > l && b > t ? new SKRectI(l, t, r, b) : new SKRectI(0, 0, width, height);
    }

    static Region Clip(RgbImage image, double scale, double x0, double y0, double x1, double y1, int margin, bool crop)
    {
        var r = ClipRect(image.Width, image.Height, scale, x0, y0, x1, y1, margin);
        return crop && (r.Width != image.Width || r.Height != image.Height)
            ? new Region(image.Crop(r.Left, r.Top, r.Width, r.Height), scale, r.Left, r.Top)
            : new Region(image, scale, 0, 0);
    }

    static void Check(string name, SKCodec codec, SKCodecResult result)
    {
        if (result == SKCodecResult.IncompleteInput) throw AnyResException.ForFile(name, "truncated image data");
        if (result != SKCodecResult.Success) throw AnyResException.ForFile(name, $"cannot decode {codec.EncodedFormat} data ({result})");
    }

    static T Pin<T>(byte[] buffer, Func<IntPtr, T> use)
    {
        var handle = GCHandle.Alloc(buffer, GCHandleType.Pinned);
        try { return use(handle.AddrOfPinnedObject()); }
        finally { handle.Free(); }
    }

    public readonly record struct Decoded(RgbImage Image, double Scale);

    static int CeilDiv(int a, int b) => (a + b - 1) / b;

    static SKCodec OpenCodec(SKData data, string name)
    {
        var codec = SKCodec.Create(new SKMemoryStream(data), out var result);
        if (codec is null)
            throw AnyResException.ForFile(name, result == SKCodecResult.IncompleteInput ? "truncated image header" : "not a decodable image (unknown or corrupt format)");
        return codec;
    }

    static ImageHeader CheckSize(string name, int width, int height, string format)
    {
        if (width <= 0 || height <= 0) throw AnyResException.ForFile(name, $"invalid image size {width}x{height}");
        if ((long)width * height > MaxPixels)
            throw AnyResException.ForFile(name, $"header claims {width}x{height} = {(long)width * height / 1e6:F0} megapixels, over the {MaxPixels / 1_000_000} MP limit");
        return new ImageHeader(width, height, format);
    }

    static (int W, int H) Oriented(int w, int h, SKEncodedOrigin origin) => (int)origin >= 5 ? (h, w) : (w, h);

    /// <summary>Interleaved 8-bit pixels with <paramref name="channels"/> channels (RGB first) → upright RGB.</summary>
    static RgbImage Orient(byte[] src, int w, int h, int channels, SKEncodedOrigin origin)
    {
        var (ow, oh) = Oriented(w, h, origin);
        var image = new RgbImage(ow, oh);
        var dst = image.Pixels;
        if (origin == SKEncodedOrigin.TopLeft)
        {
            for (int i = 0, n = w * h; i < n; i++)
            {
                dst[3 * i] = src[channels * i]; dst[3 * i + 1] = src[channels * i + 1]; dst[3 * i + 2] = src[channels * i + 2];
            }
            return image;
        }
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
            {
                var (sx, sy) = ToRaw(ox, oy, w, h, origin);
                int s = (sy * w + sx) * channels, d = (oy * ow + ox) * 3;
                dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2];
            }
        return image;
    }

    /// <summary>The stored pixel shown at upright position (ox, oy) of a w×h stored image.</summary>
    static (int X, int Y) ToRaw(int ox, int oy, int w, int h, SKEncodedOrigin origin) => origin switch
    {
        SKEncodedOrigin.TopRight => (w - 1 - ox, oy),
        SKEncodedOrigin.BottomRight => (w - 1 - ox, h - 1 - oy),
        SKEncodedOrigin.BottomLeft => (ox, h - 1 - oy),
        SKEncodedOrigin.LeftTop => (oy, ox),
        SKEncodedOrigin.RightTop => (oy, h - 1 - ox),
        SKEncodedOrigin.RightBottom => (w - 1 - oy, h - 1 - ox),
        SKEncodedOrigin.LeftBottom => (w - 1 - oy, ox),
        _ => (ox, oy),
    };

    static bool IsTiff(SKData data)
    {
        var b = data.AsSpan();
        return b.Length >= 4 && ((b[0] == 'I' && b[1] == 'I' && b[2] == 42 && b[3] == 0) || (b[0] == 'M' && b[1] == 'M' && b[2] == 0 && b[3] == 42));
    }

    static int Field(Tiff tiff, TiffTag tag) => tiff.GetField(tag) is { Length: > 0 } v ? v[0].ToInt() : 0;

    sealed class QuietTiffErrors : TiffErrorHandler
    {
        public override void ErrorHandler(Tiff tif, string method, string format, params object[] args) { }
        public override void WarningHandler(Tiff tif, string method, string format, params object[] args) { }
    }

    static T WithTiff<T>(SKData data, string name, Func<Tiff, T> read)
    {
        Tiff.SetErrorHandler(new QuietTiffErrors());
        using var stream = new MemoryStream(data.ToArray(), writable: false);
        using var tiff = Tiff.ClientOpen(name, "r", stream, new TiffStream())
            ?? throw AnyResException.ForFile(name, "not a readable TIFF file");
        return read(tiff);
    }

    /// <summary>libtiff's RGBA interface converts every photometric/bit depth; it applies flips of the orientation tag, not transposes.</summary>
    static RgbImage DecodeTiff(Tiff tiff, string name)
    {
        int w = Field(tiff, TiffTag.IMAGEWIDTH), h = Field(tiff, TiffTag.IMAGELENGTH);
        CheckSize(name, w, h, "tiff");
        var raster = new int[w * h];
        if (!tiff.ReadRGBAImageOriented(w, h, raster, Orientation.TOPLEFT))
            throw AnyResException.ForFile(name, "cannot decode TIFF data (unsupported layout or corrupt)");
        var image = new RgbImage(w, h);
        for (int i = 0; i < raster.Length; i++)
        {
            image.Pixels[3 * i] = (byte)Tiff.GetR(raster[i]);
            image.Pixels[3 * i + 1] = (byte)Tiff.GetG(raster[i]);
            image.Pixels[3 * i + 2] = (byte)Tiff.GetB(raster[i]);
        }
        return image;
    }
}
