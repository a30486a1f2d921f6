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

    /// <summary>One module in a checkpoint: its key prefix (with the dot), the module and its options record.</summary>
    internal readonly record struct Entry(string Prefix, nn.Module Module, object Options);

    /// <summary>Writes the modules' state dicts (parameters and persistent buffers) and options atomically.</summary>
    internal static void SaveModules(string path, IReadOnlyList<Entry> entries, IReadOnlyDictionary<string, string>? extraMetadata)
    {
        var metadata = new Dictionary<string, string> { ["format"] = "pt", [FormatKey] = FormatValue };
        foreach (var (prefix, _, options) in entries) metadata[OptionsKey(prefix)] = JsonSerializer.Serialize(options, options.GetType(), Json);
        foreach (var (k, v) in extraMetadata ?? new Dictionary<string, string>())
        {
            if (metadata.ContainsKey(k)) throw new ArgumentException($"extra metadata key '{k}' is reserved for the checkpoint layout");
            metadata[k] = v;
        }
        var tensors = entries.SelectMany(e => e.Module.state_dict().Select(kv => KeyValuePair.Create(e.Prefix + kv.Key, kv.Value)));
        SafetensorsFile.Write(path, tensors, metadata);
    }

    /// <summary>
    /// Copies <paramref name="tensors"/> into the modules' state dicts, matching <c>prefix + key</c> exactly. Checks every key first
    /// and changes nothing unless the file and the modules agree: same keys, same shapes, floating point where the module is.
    /// </summary>
    internal static void LoadStrict(string path, IReadOnlyDictionary<string, Tensor> tensors, IEnumerable<(string Prefix, nn.Module Module)> modules)
    {
        var missing = new List<string>();
        var misshaped = new List<string>();
        var pairs = new List<(Tensor Target, Tensor Source)>();
        var used = new HashSet<string>();
        foreach (var (prefix, module) in modules)
        {
            foreach (var (key, target) in module.state_dict())
            {
                var name = prefix + key;
                if (!tensors.TryGetValue(name, out var source)) { missing.Add(name); continue; }
                used.Add(name);
                if (!source.shape.SequenceEqual(target.shape))
                    misshaped.Add($"{name} is {Shape(source)} in the file, {Shape(target)} in the model");
                else if (source.is_floating_point() != target.is_floating_point())
                    misshaped.Add($"{name} is {source.dtype} in the file, {target.dtype} in the model");
                else
                    pairs.Add((target, source));
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
        using var noGrad = no_grad();
        foreach (var (target, source) in pairs) target.copy_(source);
    }

    static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";

    static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";

    /// <summary>At most this many names per list, so a wholly wrong file still gives a readable line.</summary>
    const int MaxListed = 8;

    static string List(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(MaxListed)) + (names.Count > MaxListed ? $", ... and {names.Count - MaxListed} more" : "");
}
