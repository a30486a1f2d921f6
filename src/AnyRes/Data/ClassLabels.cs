using System.Text.Json;
using System.Text.Json.Nodes;
using AnyRes.Core;

namespace AnyRes.Data;

/// <summary>
/// The class of every image of a source, for conditional training. Read from the official <c>dataset.json</c>
/// (<c>{"labels": [["relative/path", class], ...]}</c>, optionally <c>"classes": [names]</c>, this port's addition) or, without
/// one, from the folder-per-class layout (<c>DATA/&lt;class name&gt;/...</c>, classes sorted by name). Every mismatch (a label
/// for a missing file, an image without a label, a class index out of range, a class without images) is reported in one line.
/// </summary>
public sealed class ClassLabels
{
    public const string DatasetJson = "dataset.json";
    /// <summary>Checkpoint metadata key holding the class names (a JSON array, index order).</summary>
    public const string MetadataKey = "anyres.classes";

    /// <summary>Class names in index order.</summary>
    public IReadOnlyList<string> Names { get; }
    readonly Dictionary<string, int> _byPath;

    ClassLabels(IReadOnlyList<string> names, Dictionary<string, int> byPath) => (Names, _byPath) = (names, byPath);

    public int Count => Names.Count;

    /// <summary>The class index of an image of the source (by its relative path).</summary>
    public int Of(string path) => _byPath[path];

    /// <summary>Labels of a source: its dataset.json when it has one, else its class folders.</summary>
    public static ClassLabels Read(ImageSource source)
    {
        var labels = source.ReadText(DatasetJson) is { } json ? FromDatasetJson(source, json) : FromFolders(source);
        labels.CheckNonEmpty(source.Images, source.Location);
        return labels;
    }

    static ClassLabels FromDatasetJson(ImageSource source, string json)
    {
        var where = source.DisplayName(DatasetJson);
        JsonObject root;
        try { root = JsonNode.Parse(json) as JsonObject ?? throw new JsonException("not an object"); }
        catch (JsonException e) { throw AnyResException.ForFile(where, $"is not valid JSON ({e.Message})", e); }
        if (root["labels"] is not JsonArray entries) throw AnyResException.ForFile(where, "has no \"labels\" list (an unconditional dataset)");
        var byPath = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (entry is not JsonArray { Count: 2 } pair || pair[0]?.GetValueKind() != JsonValueKind.String || pair[1]?.GetValueKind() != JsonValueKind.Number
                || !pair[1]!.AsValue().TryGetValue<int>(out var k))
                throw AnyResException.ForFile(where, $"label {entry?.ToJsonString() ?? "null"} is not [\"path\", class index]");
            byPath[pair[0]!.GetValue<string>().Replace('\\', '/')] = k;
        }
        string[]? names = root["classes"] is JsonArray given ? given.Select(n => n?.GetValue<string>() ?? "").ToArray() : null;
        int count = names?.Length ?? (byPath.Count == 0 ? 0 : byPath.Values.Max() + 1);
        var existing = source.Images.Select(i => i.Path).Concat(source.Bad.Select(b => b.Path)).ToHashSet(StringComparer.Ordinal);
        var problems = new List<string>();
        Problem(problems, "labels for missing files", byPath.Keys.Where(p => !existing.Contains(p)));
        Problem(problems, "images without a label", source.Images.Select(i => i.Path).Where(p => !byPath.ContainsKey(p)));
        Problem(problems, $"class indices out of range 0..{count - 1}", byPath.Where(kv => kv.Value < 0 || kv.Value >= count).Select(kv => $"{kv.Key} -> {kv.Value}"));
        if (problems.Count > 0) throw AnyResException.ForFile(where, string.Join("; ", problems));
        return new ClassLabels(names ?? Enumerable.Range(0, count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(), byPath);
    }

    static ClassLabels FromFolders(ImageSource source)
    {
        static string? ClassOf(string path) => path.IndexOf('/') is var slash and > 0 ? path[..slash] : null;
        var problems = new List<string>();
        Problem(problems, "images outside a class folder (DATA/<class>/...)", source.Images.Select(i => i.Path).Where(p => ClassOf(p) is null));
        if (problems.Count > 0) throw AnyResException.ForFile(source.Location, $"no {DatasetJson} and not one folder per class: " + problems[0]);
        // Folders holding only unreadable images still count as classes (they are reported as empty).
        var folders = source.Images.Select(i => i.Path).Concat(source.Bad.Select(b => b.Path)).Select(ClassOf).OfType<string>();
        if (!source.IsZip)
            folders = folders.Concat(new DirectoryInfo(source.Location).EnumerateDirectories()
                .Where(d => (d.Attributes & (FileAttributes.Hidden | FileAttributes.System)) == 0 && !d.Name.StartsWith('.')).Select(d => d.Name));
        var names = folders.Distinct().Order(StringComparer.Ordinal).ToArray();
        var index = names.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => x.i);
        return new ClassLabels(names, source.Images.ToDictionary(i => i.Path, i => index[ClassOf(i.Path)!], StringComparer.Ordinal));
    }

    /// <summary>Every class must keep at least one of <paramref name="images"/> (those a dataset uses after its size filter).</summary>
    public void CheckNonEmpty(IEnumerable<ImageEntry> images, string location)
    {
        if (Count == 0) throw AnyResException.ForFile(location, "has no classes (labels or class folders) for --cond");
        var used = images.Select(i => Of(i.Path)).ToHashSet();
        var empty = Enumerable.Range(0, Count).Where(k => !used.Contains(k)).Select(k => $"{k} '{Names[k]}'").ToList();
        if (empty.Count > 0) throw AnyResException.ForFile(location, $"{Plural(empty.Count, "class", "classes")} without usable images: {List(empty)}");
    }

    static void Problem(List<string> problems, string what, IEnumerable<string> items)
    {
        var list = items.ToList();
        if (list.Count > 0) problems.Add($"{list.Count} {what}: {List(list)}");
    }

    static string List(IReadOnlyList<string> items) => string.Join(", ", items.Take(5)) + (items.Count > 5 ? $", ... ({items.Count - 5} more)" : "");
    static string Plural(int n, string one, string many) => n == 1 ? $"1 {one}" : $"{n} {many}";

    /// <summary>The class names as the JSON array saved in checkpoints and run directories.</summary>
    public static string NamesJson(IReadOnlyList<string> names) => JsonSerializer.Serialize(names);

    public static string[] ParseNames(string json, string where)
    {
        try { return JsonSerializer.Deserialize<string[]>(json) ?? throw new JsonException("null"); }
        catch (JsonException e) { throw AnyResException.ForFile(where, $"'{MetadataKey}' is not a list of class names ({e.Message})", e); }
    }

    /// <summary>
    /// The class index named by <paramref name="text"/>: a class name of the table, or an index 0..classes−1. An unknown name
    /// lists the classes.
    /// </summary>
    public static int Resolve(string text, IReadOnlyList<string>? names, int classes, string network)
    {
        if (names is not null && names.ToList().IndexOf(text) is var named and >= 0) return named;
        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var k) && k < classes) return k;
        var known = names is not null ? string.Join(", ", names) : $"0..{classes - 1} (the network stores no class names)";
        throw new AnyResException($"--class {text}: not a class of {network} (classes: {known})");
    }
}
