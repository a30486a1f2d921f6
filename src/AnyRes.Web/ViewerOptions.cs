namespace AnyRes.Web;

/// <summary>What `anyres serve` maps its flags onto (and `dotnet AnyRes.Web.dll` reads from the "Viewer" configuration section).</summary>
public sealed record ViewerOptions
{
    /// <summary>Network checkpoints to offer, each named by its file name without extension.</summary>
    public List<string> Networks { get; init; } = [];
    public string Device { get; init; } = "cpu";
    /// <summary>Side of a Deep Zoom tile in pixels; 0 = the smallest multiple of the model's p that is at least 256.</summary>
    public int TileSize { get; init; }
    /// <summary>Pyramid levels past the base size (the model's p on the canvas's longer side); each doubles the zoom.</summary>
    public int Levels { get; init; } = 6;
    /// <summary>Renders running at once (default: one per core); more wait in a queue of <see cref="QueueLength"/>, beyond it 503.</summary>
    public int MaxRenders { get; init; } = Environment.ProcessorCount;
    public int QueueLength { get; init; } = 64;
    public long CacheBytes { get; init; } = 256L << 20;
    public int TileBatch { get; init; } = 4;
    /// <summary>Largest canvas aspect ratio (longer over shorter side) a request may ask for.</summary>
    public int MaxAspect { get; init; } = 8;
    /// <summary>"Save this view" refuses images above this many pixels.</summary>
    public long MaxSavePixels { get; init; } = 4096L * 4096;

    /// <summary>Throws <see cref="Core.AnyResException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (Networks.Count == 0) throw new Core.AnyResException("give at least one --network");
        if (TileSize < 0 || TileSize > 4096) throw new Core.AnyResException($"--tile-size {TileSize}: expected 0 (auto) or 1..4096");
        if (Levels < 0 || Levels > 16) throw new Core.AnyResException($"--levels {Levels}: expected 0..16 (zoom up to 65536x)");
        if (MaxRenders < 1) throw new Core.AnyResException($"--renders {MaxRenders}: need at least 1");
        if (QueueLength < 0) throw new Core.AnyResException($"--queue {QueueLength}: cannot be negative");
        if (CacheBytes < 0) throw new Core.AnyResException("--cache-mb cannot be negative");
        if (TileBatch < 1) throw new Core.AnyResException($"--tile-batch {TileBatch}: need at least 1");
        if (MaxAspect < 1) throw new Core.AnyResException($"--max-aspect {MaxAspect}: need at least 1");
        if (MaxSavePixels < 1) throw new Core.AnyResException("--max-save-pixels must be positive");
    }
}
