using AnyRes.Core;

namespace AnyRes.Data;

/// <summary>Options of the native-size patch ("HR") dataset; defaults are the reference's (spec §4.3).</summary>
public sealed record PatchDatasetOptions
{
    /// <summary>Patch size p (generator resolution).</summary>
    public int Size { get; init; } = 256;
    /// <summary>Largest scale p/N, i.e. the smallest virtual size p/ScaleMax (1 = the whole image at p).</summary>
    public double ScaleMax { get; init; } = 1.0;
    /// <summary>Smallest scale, i.e. the largest virtual size p/ScaleMin; null = each image's native side.</summary>
    public double? ScaleMin { get; init; }
    /// <summary>Random (true) or centred square crop of non-square images.</summary>
    public bool RandomCrop { get; init; } = true;
    /// <summary>Adds a mirrored copy of every image (the dataset length doubles).</summary>
    public bool XFlip { get; init; }
    /// <summary>Decode JPEGs at the smallest DCT scale (k/8) still at least N, then Lanczos to N: same law, much less work.</summary>
    public bool FastJpeg { get; init; } = true;
}

/// <summary>Options of the fixed-size ("LR") dataset (spec §4.2).</summary>
public sealed record LowResDatasetOptions
{
    public int Size { get; init; } = 256;
    /// <summary>Random (true) or centred square crop of non-square images.</summary>
    public bool RandomCrop { get; init; } = true;
    public bool XFlip { get; init; }
    /// <summary>Keep images smaller than p (upsampled); otherwise they are excluded with a warning.</summary>
    public bool AllowUpsample { get; init; }
    public bool FastJpeg { get; init; } = true;
}

/// <summary>A p×p patch, its transform and zoom k = N/p.</summary>
public sealed record PatchSample(RgbImage Image, PatchTransform Transform, double Zoom, PatchDraw Draw);

/// <summary>Shared by both datasets: the usable images of a source after the size filter, and mirrored indices.</summary>
public abstract class ImageDataset
{
    public ImageSource Source { get; }
    public IReadOnlyList<ImageEntry> Images { get; }
    /// <summary>One line per image left out because it is too small, naming it.</summary>
    public IReadOnlyList<string> Excluded { get; }
    /// <summary>The class of every image (conditional training), or null.</summary>
    public ClassLabels? Labels { get; }
    readonly bool _xflip;

    protected ImageDataset(ImageSource source, bool xflip, Func<ImageEntry, string?> tooSmall, Action<string>? warn, ClassLabels? labels)
    {
        Source = source;
        _xflip = xflip;
        var excluded = new List<string>();
        var images = new List<ImageEntry>();
        foreach (var image in source.Images)
        {
            if (tooSmall(image) is { } why) excluded.Add($"{source.DisplayName(image.Path)}: {image.Width}x{image.Height} {why}, excluded");
            else images.Add(image);
        }
        if (images.Count == 0)
        {
            // One line for the whole set (not a warning per image first): the largest image and why even it is left out.
            if (source.Images.Count == 0) throw AnyResException.ForFile(source.Location, "no readable images");
            var largest = source.Images.MaxBy(i => Math.Min(i.Width, i.Height))!;
            throw AnyResException.ForFile(source.Location, $"all {source.Images.Count} images are too small for these settings "
                + $"(largest: {source.DisplayName(largest.Path)}, {largest.Width}x{largest.Height}, {tooSmall(largest)})");
        }
        warn ??= line => Console.Error.WriteLine($"warning: {line}");
        foreach (var line in excluded) warn(line);
        labels?.CheckNonEmpty(images, source.Location);   // the size filter may empty a class
        Images = images;
        Excluded = excluded;
        Labels = labels;
    }

    /// <summary>The class index of item <paramref name="index"/> (a mirrored copy keeps its image's class).</summary>
    public int Label(int index) => Labels!.Of(Images[index % Images.Count].Path);

    /// <summary>Number of items: images, twice when mirrored copies are added.</summary>
    public int Count => Images.Count * (_xflip ? 2 : 1);

    protected (ImageEntry Image, bool Mirrored) Item(int index) => (Images[index % Images.Count], index >= Images.Count);

    /// <summary>
    /// The JPEG DCT scale in eighths (1, 2, 4 or 8: few distinct decodes to cache) whose decode of an m-pixel side is still at least
    /// <paramref name="needed"/> pixels.
    /// </summary>
    protected static int Eighths(int side, int needed, bool fast)
    {
        if (!fast) return 8;
        int k = 1;
        while (k < 8 && k * side < 8 * needed) k *= 2;
        return k;
    }

    /// <summary>
    /// The p×p window at (x, y) of the m×m square at (cropX, cropY) resized to N×N: decodes only the native region the Lanczos
    /// kernel reaches (at the DCT scale chosen for N), then resamples it.
    /// </summary>
    protected RgbImage Resample(ImageEntry image, int cropX, int cropY, int side, int n, int x, int y, int p, bool fast)
    {
        double ratio = (double)side / n, reach = Lanczos.Reach(ratio) + 1;
        var region = Source.DecodeRegion(image, Eighths(side, n, fast),
            cropX + x * ratio - reach, cropY + y * ratio - reach, cropX + (x + p) * ratio + reach, cropY + (y + p) * ratio + reach);
        double s = region.Scale;
        return Lanczos.ResizeWindow(region.Image, cropX * s - region.X, cropY * s - region.Y, side * s, side * s, n, n, x, y, p, p);
    }
}

/// <summary>
/// Native-size patch dataset (spec §4.3–4.4): square crop, virtual size N ~ U[p/scaleMax, p/max(p/m, scaleMin)], Lanczos to
/// N, pixel-aligned p×p crop, its transform and zoom. Images whose square is smaller than p/scaleMax are excluded up front.
/// </summary>
public sealed class PatchDataset : ImageDataset
{
    public PatchDatasetOptions Options { get; }

    public PatchDataset(ImageSource source, PatchDatasetOptions options, Action<string>? warn = null, ClassLabels? labels = null)
        : base(source, options.XFlip, image => TooSmall(image, Validate(options)), warn, labels)
    {
        Options = options;
    }

    static PatchDatasetOptions Validate(PatchDatasetOptions o)
    {
        if (o.Size < 1) throw new AnyResException($"patch size must be positive, got {o.Size}");
        if (!(o.ScaleMax > 0 && o.ScaleMax <= 1)) throw new AnyResException($"--scale-max must be in (0, 1], got {o.ScaleMax}");
        if (o.ScaleMin is { } lo && !(lo > 0 && lo <= o.ScaleMax)) throw new AnyResException($"--scale-min must be in (0, scale-max], got {lo}");
        return o;
    }

    static string? TooSmall(ImageEntry image, PatchDatasetOptions o)
    {
        double smallest = o.Size / o.ScaleMax;
        return image.MinSide + 1e-9 < smallest ? $"is smaller than the smallest virtual size p/scale-max = {smallest:g6}" : null;
    }

    public PatchSample Get(int index, SampleRng rng)
    {
        var (image, mirrored) = Item(index);
        int p = Options.Size;
        var draw = PatchSampler.Draw(rng, image.Width, image.Height, p, Options.ScaleMax, Options.ScaleMin, Options.RandomCrop, mirrored);
        // A mirrored draw addresses the flipped image; Lanczos is symmetric, so cut the mirror-image window and flip the patch.
        int cropX = mirrored ? image.Width - draw.Side - draw.CropX : draw.CropX;
        int x = mirrored ? draw.NewSize - p - draw.X : draw.X;
        var patch = Resample(image, cropX, draw.CropY, draw.Side, draw.NewSize, x, draw.Y, p, Options.FastJpeg);
        if (mirrored) patch = patch.FlipX();
        return new PatchSample(patch, PatchSampler.Transform(draw.NewSize, draw.X, draw.Y, p), (double)draw.NewSize / p, draw);
    }
}

/// <summary>Fixed-size dataset (spec §4.2): square crop (random offset along the long axis, or centred), Lanczos to p×p, optional mirror after resizing.</summary>
public sealed class LowResDataset : ImageDataset
{
    public LowResDatasetOptions Options { get; }

    public LowResDataset(ImageSource source, LowResDatasetOptions options, Action<string>? warn = null, ClassLabels? labels = null)
        : base(source, options.XFlip, image => !options.AllowUpsample && image.MinSide < options.Size ? $"is smaller than p = {options.Size} (allow upsampling to keep it)" : null, warn, labels)
    {
        if (options.Size < 1) throw new AnyResException($"image size must be positive, got {options.Size}");
        Options = options;
    }

    public RgbImage Get(int index, SampleRng rng)
    {
        var (image, mirrored) = Item(index);
        int m = image.MinSide, p = Options.Size;
        int cx = Options.RandomCrop ? rng.Int(0, image.Width - m) : (image.Width - m) / 2;
        int cy = Options.RandomCrop ? rng.Int(0, image.Height - m) : (image.Height - m) / 2;
        var result = Resample(image, cx, cy, m, p, 0, 0, p, Options.FastJpeg);
        return mirrored ? result.FlipX() : result;
    }
}
