using System.Security.Cryptography;
using System.Text;
using AnyRes.Core;
using AnyRes.Synthesis;
using TorchSharp;

namespace AnyRes.Web;

/// <summary>Counters the server reports at /api/stats (and the tests and the benchmark read).</summary>
public sealed class ViewerStats
{
    long rendered, cancelled, rejected, cacheHits, forwards;
    public long Rendered => Interlocked.Read(ref rendered);
    public long Cancelled => Interlocked.Read(ref cancelled);
    public long Rejected => Interlocked.Read(ref rejected);
    public long CacheHits => Interlocked.Read(ref cacheHits);
    /// <summary>Generator forwards run (each one batch of model tiles).</summary>
    public long Forwards => Interlocked.Read(ref forwards);
    internal void OnRendered() => Interlocked.Increment(ref rendered);
    internal void OnCancelled() => Interlocked.Increment(ref cancelled);
    internal void OnRejected() => Interlocked.Increment(ref rejected);
    internal void OnCacheHit() => Interlocked.Increment(ref cacheHits);
    internal void OnForward() => Interlocked.Increment(ref forwards);
}

/// <summary>
/// The server's state: the loaded networks, the render gate, the tile cache, and one render thread per slot of the gate.
/// </summary>
public sealed class Viewer : IDisposable
{
    readonly RenderThreads threads;

    public ViewerOptions Options { get; }
    public IReadOnlyDictionary<string, ViewerNetwork> Networks { get; }
    public IReadOnlyList<ViewerNetwork> NetworkList { get; }
    public RenderGate Gate { get; }
    public TileCache Cache { get; }
    public ViewerStats Stats { get; } = new();

    /// <summary>Called after every generator forward with the request's token (tests hold renders here to observe the gate).</summary>
    internal Action<CancellationToken>? AfterForward { get; set; }

    /// <summary>Distinguishes builds of the renderer, so browsers drop cached tiles when the code that made them changes.</summary>
    static readonly string RendererVersion = typeof(TileRenderer).Assembly.ManifestModule.ModuleVersionId.ToString("N");

    public Viewer(ViewerOptions options)
    {
        options.Validate();
        Options = options;
        NetworkList = ViewerNetwork.LoadAll(options.Networks, TorchRuntime.ParseDevice(options.Device));
        Networks = NetworkList.ToDictionary(n => n.Name);
        Gate = new RenderGate(options.MaxRenders, options.QueueLength);
        Cache = new TileCache(options.CacheBytes);
        threads = new RenderThreads(options.MaxRenders);
    }

    public void Dispose() => threads.Dispose();

    public sealed record Tile(byte[] Png, string ETag);

    public static string ETagOf(string key) => $"\"{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(RendererVersion + "|" + key)))[..32]}\"";

    public static string TileKey(ImageSpec spec, int level, int column, int row) => $"{spec.Key}/{level}/{column}_{row}";

    /// <summary>The tile's PNG from the cache or a fresh render; null when the render queue is full.</summary>
    public async Task<Tile?> GetTileAsync(ImageSpec spec, int level, int column, int row, CancellationToken cancellation)
    {
        var key = TileKey(spec, level, column, row);
        if (Cache.TryGet(key, out var cached))
        {
            Stats.OnCacheHit();
            return new Tile(cached, ETagOf(key));
        }
        var png = await RenderAsync(spec, spec.Pyramid.TileView(level, column, row), cancellation);
        if (png is null) return null;
        Cache.Add(key, png);
        return new Tile(png, ETagOf(key));
    }

    /// <summary>Renders a view of the image as a PNG through the gate; null when the queue is full.</summary>
    public async Task<byte[]?> RenderAsync(ImageSpec spec, CanvasView view, CancellationToken cancellation)
    {
        using var lease = await Gate.EnterAsync(cancellation);
        if (lease is null)
        {
            Stats.OnRejected();
            return null;
        }
        try
        {
            var png = await threads.Run(() => RenderPng(spec, view, cancellation), cancellation);
            Stats.OnRendered();
            return png;
        }
        catch (OperationCanceledException)
        {
            Stats.OnCancelled();
            throw;
        }
    }

    byte[] RenderPng(ImageSpec spec, CanvasView view, CancellationToken cancellation)
    {
        var source = spec.Network.Source(spec.Mode);
        using var scope = torch.NewDisposeScope();
        var ws = spec.Network.Tiles.Map(spec.Seed, spec.Psi);
        using var stream = new MemoryStream();
        using (var png = new PngWriter(stream, view.Width, view.Height, source.Channels))
        {
            TileRenderer.Render(source, ws, view, new PngRowSink(png), new RenderOptions
            {
                TileBatch = Options.TileBatch,
                MaxPixels = Math.Max(Options.MaxSavePixels, (long)spec.Pyramid.TileSize * spec.Pyramid.TileSize),
                Cancellation = cancellation,
                Progress = (_, _) => { Stats.OnForward(); AfterForward?.Invoke(cancellation); },
            });
            png.Finish();
        }
        return stream.ToArray();
    }
}
