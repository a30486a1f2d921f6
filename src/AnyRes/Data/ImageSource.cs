using System.IO.Compression;
using System.Text.Json;
using AnyRes.Core;
using SkiaSharp;

namespace AnyRes.Data;

/// <summary>An image of a source: its path relative to the folder (or its zip entry name) and its upright size from the header.</summary>
public sealed record ImageEntry(string Path, int Width, int Height)
{
    public int MinSide => Math.Min(Width, Height);
}

/// <summary>A file that cannot be used, with the reason.</summary>
public sealed record BadImage(string Path, string Reason);

/// <summary>
/// A folder (recursive, symlinks followed, hidden files skipped) or a .zip of images, sorted by relative path. The header index
/// (path, width, height, or the reason a file is unreadable) is cached in <c>.anyres-index.json</c> inside the folder (or in
/// <c>NAME.zip.anyres-index.json</c> next to a zip) and each entry is re-read when its size or modification time changes, so
/// added, removed and changed files are always noticed.
/// </summary>
public sealed class ImageSource : IDisposable
{
    public const string IndexFileName = ".anyres-index.json";

    public string Location { get; }
    public IReadOnlyList<ImageEntry> Images { get; }
    public IReadOnlyList<BadImage> Bad { get; }
    /// <summary>Files skipped because their extension is not an image format (licence files, lists, ...).</summary>
    public int IgnoredFiles { get; }

    readonly ZipArchive? _zip;
    readonly object _zipLock = new();

    ImageSource(string location, ZipArchive? zip, List<ImageEntry> images, List<BadImage> bad, int ignored)
    {
        Location = location; _zip = zip; Images = images; Bad = bad; IgnoredFiles = ignored;
    }

    public bool IsZip => _zip is not null;

    /// <summary>The name used in messages: the file's full path, or ZIP:ENTRY.</summary>
    public string DisplayName(string path) => _zip is null ? System.IO.Path.Combine(Location, path) : $"{Location}:{path}";

    public static ImageSource Open(string path, bool useCache = true)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(full)) return OpenFolder(full, useCache);
        if (File.Exists(full))
        {
            if (!full.EndsWith(".zip", StringComparison.OrdinalIgnoreCase)) throw AnyResException.ForFile(path, "not a folder or a .zip file");
            return OpenZip(full, useCache);
        }
        throw AnyResException.ForFile(path, "no such file or folder");
    }

    /// <summary>Like <see cref="Open"/>, but a source without a single usable image is an error.</summary>
    public static ImageSource OpenNonEmpty(string path, bool useCache = true)
    {
        var source = Open(path, useCache);
        if (source.Images.Count == 0)
        {
            source.Dispose();
            throw AnyResException.ForFile(path, source.Bad.Count > 0 ? $"no readable images ({source.Bad.Count} unreadable files)" : "no images found (extensions: " + string.Join(" ", ImageCodec.Extensions.Order()) + ")");
        }
        return source;
    }

    /// <summary>The encoded bytes of an image (thread-safe).</summary>
    public SKData ReadData(string path)
    {
        if (_zip is null) return SKData.Create(System.IO.Path.Combine(Location, path)) ?? throw AnyResException.ForFile(DisplayName(path), "cannot be read");
        lock (_zipLock)
        {
            var entry = _zip.GetEntry(path) ?? throw AnyResException.ForFile(DisplayName(path), "missing from the archive");
            using var stream = entry.Open();
            var buffer = new MemoryStream((int)entry.Length);
            stream.CopyTo(buffer);
            return SKData.CreateCopy(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        }
    }

    /// <summary>A text file at the top of the source (such as dataset.json), or null when there is none.</summary>
    public string? ReadText(string name)
    {
        if (_zip is null) return File.Exists(System.IO.Path.Combine(Location, name)) ? File.ReadAllText(System.IO.Path.Combine(Location, name)) : null;
        lock (_zipLock)
        {
            if (_zip.GetEntry(name) is not { } entry) return null;
            using var reader = new StreamReader(entry.Open());
            return reader.ReadToEnd();
        }
    }

    /// <summary>Decodes an image to upright RGB; JPEGs at eighths/8 of their size when <paramref name="eighths"/> &lt; 8 (see <see cref="ImageCodec.Decode"/>).</summary>
    public ImageCodec.Decoded Decode(ImageEntry image, int eighths = 8)
    {
        using var data = ReadData(image.Path);
        var decoded = ImageCodec.Decode(data, DisplayName(image.Path), eighths);
        // The header promised a size; a decoder disagreeing means the file changed under us or lies.
        if (Math.Abs(decoded.Image.Width - image.Width * decoded.Scale) > 1 || Math.Abs(decoded.Image.Height - image.Height * decoded.Scale) > 1)
            throw AnyResException.ForFile(DisplayName(image.Path), $"decoded size {decoded.Image.Width}x{decoded.Image.Height} differs from the indexed {image.Width}x{image.Height} (file changed?)");
        return decoded;
    }

    /// <summary>
    /// Bytes of decoded images to keep in memory (least recently used evicted); 0 = off. With a cache, an image is decoded whole
    /// at the requested DCT scale once and reused; without, each request decodes only its region (baseline JPEG). Progressive
    /// JPEGs cost a whole decode per request either way, which is what makes the cache worth its memory.
    /// </summary>
    public long DecodeCacheBytes { get; set; } = DefaultDecodeCacheBytes;

    public const long DefaultDecodeCacheBytes = 1L << 30;

    readonly DecodeCache _cache = new();

    /// <summary>The decoded pixels covering the native rectangle [x0, x1) × [y0, y1) at eighths/8 (JPEG), see <see cref="ImageCodec.DecodeRegion"/>.</summary>
    public ImageCodec.Region DecodeRegion(ImageEntry image, int eighths, double x0, double y0, double x1, double y1)
    {
        if (DecodeCacheBytes > 0)
        {
            var key = (image.Path, eighths);
            var whole = _cache.Get(key) ?? _cache.Add(key, Decode(image, eighths), DecodeCacheBytes);
            return new ImageCodec.Region(whole.Image, whole.Scale, 0, 0);
        }
        using var data = ReadData(image.Path);
        return ImageCodec.DecodeRegion(data, DisplayName(image.Path), eighths, x0, y0, x1, y1);
    }

    sealed class DecodeCache
    {
        readonly Dictionary<(string, int), LinkedListNode<((string, int) Key, ImageCodec.Decoded Value)>> _map = new();
        readonly LinkedList<((string, int) Key, ImageCodec.Decoded Value)> _order = new();
        long _bytes;

        public ImageCodec.Decoded? Get((string, int) key)
        {
            lock (_map)
            {
                if (!_map.TryGetValue(key, out var node)) return null;
                _order.Remove(node);
                _order.AddFirst(node);
                return node.Value.Value;
            }
        }

        public ImageCodec.Decoded Add((string, int) key, ImageCodec.Decoded value, long budget)
        {
            lock (_map)
            {
                if (_map.ContainsKey(key)) return value;   // decoded twice concurrently: identical pixels
                _map[key] = _order.AddFirst((key, value));
                _bytes += value.Image.Pixels.Length;
                while (_bytes > budget && _order.Count > 1)
                {
                    var last = _order.Last!;
                    _order.RemoveLast();
                    _map.Remove(last.Value.Key);
                    _bytes -= last.Value.Value.Image.Pixels.Length;
                }
                return value;
            }
        }
    }

    public void Dispose() => _zip?.Dispose();

    record struct Candidate(string Path, long Size, long Stamp);

    static ImageSource OpenFolder(string folder, bool useCache)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.Hidden | FileAttributes.System };
        var candidates = new List<Candidate>();
        int ignored = 0;
        foreach (var file in Directory.EnumerateFiles(folder, "*", options))
        {
            var rel = System.IO.Path.GetRelativePath(folder, file).Replace('\\', '/');
            if (!ImageCodec.HasImageExtension(rel)) { ignored++; continue; }
            var info = new FileInfo(file);
            if (info.LinkTarget is not null) info = (FileInfo?)info.ResolveLinkTarget(true) ?? info;
            candidates.Add(new Candidate(rel, info.Exists ? info.Length : -1, info.Exists ? info.LastWriteTimeUtc.Ticks : 0));
        }
        var (images, bad) = Index(candidates, System.IO.Path.Combine(folder, IndexFileName), useCache, rel => SKData.Create(System.IO.Path.Combine(folder, rel)), rel => System.IO.Path.Combine(folder, rel));
        return new ImageSource(folder, null, images, bad, ignored);
    }

    static ImageSource OpenZip(string zipPath, bool useCache)
    {
        ZipArchive zip;
        try { zip = ZipFile.OpenRead(zipPath); }
        catch (InvalidDataException e) { throw AnyResException.ForFile(zipPath, $"not a readable zip archive ({e.Message})"); }
        var candidates = new List<Candidate>();
        var unsafeEntries = new List<BadImage>();
        int ignored = 0;
        foreach (var entry in zip.Entries)
        {
            var name = entry.FullName;
            if (name.EndsWith('/')) continue;
            if (IsUnsafe(name)) { unsafeEntries.Add(new BadImage(name, "unsafe path in zip (absolute or containing '..'), rejected")); continue; }
            if (!ImageCodec.HasImageExtension(name)) { ignored++; continue; }
            candidates.Add(new Candidate(name, entry.Length, entry.Crc32 ^ entry.LastWriteTime.UtcTicks));
        }
        var source = new ImageSource(zipPath, zip, [], [], 0);
        var (images, bad) = Index(candidates, zipPath + IndexFileName, useCache, source.ReadData, source.DisplayName);
        bad.AddRange(unsafeEntries);
        bad.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return new ImageSource(zipPath, zip, images, bad, ignored);
    }

    static bool IsUnsafe(string name) =>
        name.StartsWith('/') || name.StartsWith('\\') || (name.Length > 1 && name[1] == ':') ||
        name.Split('/', '\\').Any(part => part == "..");

    sealed record CachedEntry(string Path, long Size, long Stamp, int Width, int Height, string? Error);

    static (List<ImageEntry>, List<BadImage>) Index(List<Candidate> candidates, string cachePath, bool useCache, Func<string, SKData> read, Func<string, string> display)
    {
        candidates.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        var cached = useCache ? LoadCache(cachePath) : new Dictionary<string, CachedEntry>();
        var entries = new CachedEntry[candidates.Count];
        bool changed = cached.Count != candidates.Count;
        Parallel.For(0, candidates.Count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
        {
            var c = candidates[i];
            if (cached.TryGetValue(c.Path, out var hit) && hit.Size == c.Size && hit.Stamp == c.Stamp) { entries[i] = hit; return; }
            changed = true;
            entries[i] = ReadHeader(c, read, display);
        });
        if (useCache && changed) SaveCache(cachePath, entries);
        var images = entries.Where(e => e.Error is null).Select(e => new ImageEntry(e.Path, e.Width, e.Height)).ToList();
        var bad = entries.Where(e => e.Error is not null).Select(e => new BadImage(e.Path, e.Error!)).ToList();
        return (images, bad);
    }

    static CachedEntry ReadHeader(Candidate c, Func<string, SKData> read, Func<string, string> display)
    {
        var name = display(c.Path);
        try
        {
            if (c.Size == 0) return new CachedEntry(c.Path, c.Size, c.Stamp, 0, 0, "empty file");
            using var data = read(c.Path);
            var header = ImageCodec.ReadHeader(data, name);
            return new CachedEntry(c.Path, c.Size, c.Stamp, header.Width, header.Height, null);
        }
        catch (Exception e) when (e is AnyResException or IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException)
        {
            var reason = e.Message.StartsWith(name + ": ") ? e.Message[(name.Length + 2)..] : e.Message;
            return new CachedEntry(c.Path, c.Size, c.Stamp, 0, 0, reason);
        }
    }

    static Dictionary<string, CachedEntry> LoadCache(string path)
    {
        try
        {
            if (!File.Exists(path)) return new();
            var list = JsonSerializer.Deserialize<List<CachedEntry>>(File.ReadAllText(path));
            return list?.ToDictionary(e => e.Path) ?? new();
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            return new();   // a damaged cache is rebuilt
        }
    }

    static void SaveCache(string path, CachedEntry[] entries)
    {
        try { AtomicFile.WriteAllText(path, JsonSerializer.Serialize(entries)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }   // read-only data: index again next time
    }
}
