using System.Text.Json;
using System.Text.Json.Serialization;
using AnyRes.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Networks;

/// <summary>
/// Network checkpoints as safetensors: every tensor is named by its module's prefix ("G.", "G_ema.", "D.") and the
/// reference's state-dict key (e.g. <c>G_ema.synthesis.L3_52_512.weight</c>, <c>D.b4.fc.weight</c>); each module's options
/// record is JSON in the header metadata under "<c>{prefix}options</c>", so the file alone rebuilds the networks.
/// Loading is strict: all missing, unexpected and mis-shaped keys are reported together in one error.
/// </summary>
public static class NetworkCheckpoint
{
    /// <summary>Metadata key that marks a file as an AnyRes network checkpoint, with the layout version.</summary>
    public const string FormatKey = "anyres.format";
    public const string FormatValue = "networks/1";

    /// <summary>Metadata key holding the options JSON of the module saved under <paramref name="prefix"/> ("G.", "G_ema.", "D.").</summary>
    public static string OptionsKey(string prefix) => prefix + "options";

    /// <summary>Options records are stored with their C# property names and enums as strings.</summary>
    public static readonly JsonSerializerOptions Json = new() { Converters = { new JsonStringEnumConverter() } };

    /// <summary>Saves any of G, G_ema and D (null = left out) with their options, atomically.</summary>
    public static void Save(string path, Generator? G, Generator? G_ema, Discriminator? D, IReadOnlyDictionary<string, string>? extraMetadata = null)
    {
        var entries = new List<Entry>();
        if (G is not null) entries.Add(new("G.", G, G.Options));
        if (G_ema is not null) entries.Add(new("G_ema.", G_ema, G_ema.Options));
        if (D is not null) entries.Add(new("D.", D, D.Options));
        if (entries.Count == 0) throw new ArgumentException("nothing to save: G, G_ema and D are all null");
        SaveModules(path, entries, extraMetadata);
    }

    /// <summary>
    /// Rebuilds every network the file holds from its options and loads its tensors strictly; the networks end on
    /// <paramref name="device"/>. An official snapshot (.pkl) loads through its imported copy (<see cref="OfficialSnapshot.Cached"/>); a bare name is a bundled model (<see cref="BundledModels"/>). Metadata is the header's string map (the extra metadata given to <see cref="Save"/> included).
    /// </summary>
    public static LoadedNetworks Load(string path, Device device)
    {
        var file = SafetensorsFile.Read(Resolve(path));
        try
        {
            if (!file.Metadata.TryGetValue(FormatKey, out var format))
                throw AnyResException.ForFile(path, "not an AnyRes network checkpoint (no '" + FormatKey + "' in its metadata; a plain generator state dict loads with NetworkCheckpoint.LoadGenerator)");
            if (format != FormatValue) throw AnyResException.ForFile(path, $"checkpoint layout '{format}' is not supported (expected '{FormatValue}')");
            var G = Build<GeneratorOptions, Generator>(path, file, "G.", o => new Generator(o));
            var G_ema = Build<GeneratorOptions, Generator>(path, file, "G_ema.", o => new Generator(o));
            var D = Build<DiscriminatorOptions, Discriminator>(path, file, "D.", o => new Discriminator(o));
            var modules = new List<(string, nn.Module)>();
            if (G is not null) modules.Add(("G.", G));
            if (G_ema is not null) modules.Add(("G_ema.", G_ema));
            if (D is not null) modules.Add(("D.", D));
            LoadStrict(path, file.Tensors, modules);
            foreach (var (_, m) in modules) m.to(device);
            return new LoadedNetworks(G, G_ema, D, file.Metadata);
        }
        finally
        {
            foreach (var t in file.Tensors.Values) t.Dispose();
        }
    }

    /// <summary>
    /// The generator to sample from: G_ema (else G) of an AnyRes checkpoint, or a plain generator state dict whose keys are
    /// the reference's (a state dict exported by hand). A plain file has
    /// no options, so <paramref name="options"/> must describe it; for a checkpoint it must be null or equal the stored options.
    /// </summary>
    public static Generator LoadGenerator(string path, Device device, GeneratorOptions? options = null)
    {
        var file = SafetensorsFile.Read(Resolve(path));
        try
        {
            var prefix = file.Tensors.Keys.Any(k => k.StartsWith("G_ema.")) ? "G_ema." : file.Tensors.Keys.Any(k => k.StartsWith("G.")) ? "G." : "";
            var stored = prefix.Length > 0 ? ReadOptions<GeneratorOptions>(path, file, prefix) : null;
            if (stored is not null && options is not null && stored != options)
                throw AnyResException.ForFile(path, $"its {prefix}options differ from the options given: stored {JsonSerializer.Serialize(stored, Json)}");
            var o = stored ?? options ?? throw AnyResException.ForFile(path, "a plain generator state dict carries no options: give the config (e.g. --cfg stylegan3-t --size 256)");
            var G = new Generator(o);
            var tensors = file.Tensors.Where(kv => kv.Key.StartsWith(prefix)).ToDictionary(kv => kv.Key, kv => kv.Value);
            LoadStrict(path, tensors, [(prefix, G)]);
            G.to(device);
            return G;
        }
        finally
        {
            foreach (var t in file.Tensors.Values) t.Dispose();
        }
    }

    /// <summary>An official snapshot (.pkl) is read through its imported copy in the cache; any other path is used as it is.</summary>
    static string Resolve(string path) => OfficialSnapshot.IsSnapshot(path) ? OfficialSnapshot.Cached(path) : BundledModels.Resolve(path);

    static TModule? Build<TOptions, TModule>(string path, SafetensorsFile file, string prefix, Func<TOptions, TModule> create) where TOptions : class
    {
        var options = ReadOptions<TOptions>(path, file, prefix);
        if (options is null) return default;
        try { return create(options); }
        catch (ArgumentException e) { throw AnyResException.ForFile(path, $"{prefix}options are invalid: {e.Message}", e); }
    }

    static TOptions? ReadOptions<TOptions>(string path, SafetensorsFile file, string prefix) where TOptions : class
    {
        if (!file.Metadata.TryGetValue(OptionsKey(prefix), out var json))
        {
            if (file.Tensors.Keys.Any(k => k.StartsWith(prefix))) throw AnyResException.ForFile(path, $"has {prefix}* tensors but no '{OptionsKey(prefix)}' metadata");
            return null;
        }
        try { return JsonSerializer.Deserialize<TOptions>(json, Json) ?? throw new JsonException("null"); }
        catch (JsonException e) { throw AnyResException.ForFile(path, $"'{OptionsKey(prefix)}' is not valid {typeof(TOptions).Name} JSON: {e.Message}", e); }
    }

    /// <summary>One module in a checkpoint: its key prefix (with the dot), the module and its options record.</summary>
    internal readonly record struct Entry(string Prefix, nn.Module Module, object Options);

    /// <summary>One network's tensors to write: prefix, options record, and the entries (full names, prefix included) in order.</summary>
    internal readonly record struct TensorEntry(string Prefix, object Options, IReadOnlyList<SafetensorsFile.Entry> Tensors);

    /// <summary>What strict matching needs of a source tensor.</summary>
    internal readonly record struct TensorInfo(long[] Shape, bool IsFloatingPoint);

    /// <summary>Writes the modules' state dicts (parameters and persistent buffers) and options atomically.</summary>
    internal static void SaveModules(string path, IReadOnlyList<Entry> entries, IReadOnlyDictionary<string, string>? extraMetadata) =>
        SaveTensors(path, entries.Select(e => new TensorEntry(e.Prefix, e.Options,
            e.Module.state_dict().Select(kv => SafetensorsFile.Entry.Of(e.Prefix + kv.Key, kv.Value)).ToList())).ToList(), extraMetadata);

    /// <summary>Writes named tensors with each network's options JSON and the layout marker, atomically.</summary>
    internal static void SaveTensors(string path, IReadOnlyList<TensorEntry> entries, IReadOnlyDictionary<string, string>? extraMetadata)
    {
        var metadata = new Dictionary<string, string> { ["format"] = "pt", [FormatKey] = FormatValue };
        foreach (var (prefix, options, _) in entries) metadata[OptionsKey(prefix)] = JsonSerializer.Serialize(options, options.GetType(), Json);
        foreach (var (k, v) in extraMetadata ?? new Dictionary<string, string>())
        {
            if (metadata.ContainsKey(k)) throw new ArgumentException($"extra metadata key '{k}' is reserved for the checkpoint layout");
            metadata[k] = v;
        }
        SafetensorsFile.Write(path, entries.SelectMany(e => e.Tensors).ToList(), metadata);
    }

    /// <summary>
    /// Copies <paramref name="tensors"/> into the modules' state dicts, matching <c>prefix + key</c> exactly. Checks every key first
    /// and changes nothing unless the file and the modules agree: same keys, same shapes, floating point where the module is.
    /// </summary>
    internal static void LoadStrict(string path, IReadOnlyDictionary<string, Tensor> tensors, IEnumerable<(string Prefix, nn.Module Module)> modules)
    {
        var pairs = Match(path, tensors.ToDictionary(kv => kv.Key, kv => new TensorInfo(kv.Value.shape, kv.Value.is_floating_point())), modules);
        using var noGrad = no_grad();
        foreach (var (name, target) in pairs) target.copy_(tensors[name]);
    }

    /// <summary>
    /// Pairs each module state-dict entry (in module order, by full name) with a source tensor of the same name; all missing,
    /// unexpected and mis-shaped keys are reported together in one error naming <paramref name="path"/>.
    /// </summary>
    internal static List<(string Name, Tensor Target)> Match(string path, IReadOnlyDictionary<string, TensorInfo> tensors, IEnumerable<(string Prefix, nn.Module Module)> modules)
    {
        var missing = new List<string>();
        var misshaped = new List<string>();
        var pairs = new List<(string, Tensor)>();
        var used = new HashSet<string>();
        foreach (var (prefix, module) in modules)
        {
            foreach (var (key, target) in module.state_dict())
            {
                var name = prefix + key;
                if (!tensors.TryGetValue(name, out var source)) { missing.Add(name); continue; }
                used.Add(name);
                if (!source.Shape.SequenceEqual(target.shape))
                    misshaped.Add($"{name} is {Shape(source.Shape)} in the file, {Shape(target.shape)} in the model");
                else if (source.IsFloatingPoint != target.is_floating_point())
                    misshaped.Add($"{name} is {(source.IsFloatingPoint ? "floating point" : "integer")} in the file, {target.dtype} in the model");
                else
                    pairs.Add((name, target));
            }
        }
        var unexpected = tensors.Keys.Where(k => !used.Contains(k)).ToList();
        if (missing.Count + unexpected.Count + misshaped.Count > 0)
        {
            var parts = new List<string>();
            if (missing.Count > 0) parts.Add($"missing {Count(missing.Count, "key")} ({List(missing)})");
            if (unexpected.Count > 0) parts.Add($"unexpected {Count(unexpected.Count, "key")} ({List(unexpected)})");
            if (misshaped.Count > 0) parts.Add($"mis-shaped {Count(misshaped.Count, "key")} ({List(misshaped)})");
            throw AnyResException.ForFile(path, "does not match the networks it describes: " + string.Join("; ", parts));
        }
        return pairs;
    }

    static string Shape(long[] shape) => "[" + string.Join(", ", shape) + "]";

    static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";

    /// <summary>At most this many names per list, so a wholly wrong file still gives a readable line.</summary>
    const int MaxListed = 8;

    static string List(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(MaxListed)) + (names.Count > MaxListed ? $", ... and {names.Count - MaxListed} more" : "");
}

/// <summary>The networks of a checkpoint (null where the file has none) and its header metadata.</summary>
public sealed record LoadedNetworks(Generator? G, Generator? G_ema, Discriminator? D, IReadOnlyDictionary<string, string> Metadata);
