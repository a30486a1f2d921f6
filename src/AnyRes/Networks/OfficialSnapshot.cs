using System.Collections;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using AnyRes.Core;
using AnyRes.Core.Pickle;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Networks;

/// <summary>
/// An official network snapshot (network-snapshot-*.pkl of NVlabs/stylegan3 or chail/anyres-gan: a pickled dict of
/// torch_utils.persistence objects G, D, G_ema, augment_pipe, training_set_kwargs) mapped onto this port: each network's
/// options from its constructor keyword arguments and its state dict named the way torch.nn.Module.state_dict() names it
/// (parameters, then persistent buffers, then children, with dotted names). Nothing from the file is executed.
/// </summary>
public sealed class OfficialSnapshot
{
    /// <summary>One network of the snapshot: checkpoint prefix ("G.", "G_ema.", "D."), options and state dict in module order.</summary>
    public sealed record Network(string Prefix, object Options, IReadOnlyList<(string Key, PickledTensor Tensor)> State, int DroppedBuffers);

    public IReadOnlyList<Network> Networks { get; }
    /// <summary>Tensors of the training-time augmentation pipeline (ADA), which AnyRes does not use: counted, not imported.</summary>
    public int SkippedAugmentTensors { get; }

    OfficialSnapshot(IReadOnlyList<Network> networks, int skipped) => (Networks, SkippedAugmentTensors) = (networks, skipped);

    static readonly (string Key, string Prefix, string Class)[] Modules = [("G", "G.", "Generator"), ("G_ema", "G_ema.", "Generator"), ("D", "D.", "Discriminator")];

    /// <summary>
    /// Deepest nesting of modules, containers or options followed (real snapshots stay under 20): a hostile file nested
    /// a million deep must end in an error line, not a stack overflow.
    /// </summary>
    const int MaxNesting = 200;

    /// <summary>Top-level entries that hold no network: the augmentation pipe (skipped) and plain training metadata.</summary>
    const string AugmentPipe = "augment_pipe";

    /// <summary>
    /// A file to read as a snapshot rather than as a safetensors checkpoint: a .pkl name, or a pickle's PROTO opcode (0x80,
    /// protocol 2..5) where a safetensors file would not have its JSON header — a header length can begin with 0x80 too.
    /// </summary>
    public static bool IsSnapshot(string path)
    {
        if (Path.GetExtension(path).Equals(".pkl", StringComparison.OrdinalIgnoreCase)) return true;
        if (!File.Exists(path)) return false;
        Span<byte> head = stackalloc byte[9];
        using var s = File.OpenRead(path);
        int n = s.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return n >= 2 && head[0] == 0x80 && head[1] is >= 2 and <= 5 && !(n == 9 && head[8] == '{');
    }

    /// <summary>Reads and maps a snapshot; every problem is one AnyResException line naming the file.</summary>
    public static OfficialSnapshot Read(string path)
    {
        var pickle = TorchPickle.Read(path);
        if (pickle.Root is not Hashtable root)
            throw AnyResException.ForFile(path, $"is a pickle of {Describe(pickle.Root)}, not a network snapshot (a dict with G, D, G_ema)");
        if (!root.ContainsKey("G") && !root.ContainsKey("G_ema"))
            throw AnyResException.ForFile(path, "is a pickle of a dict without G or G_ema: not a network snapshot");
        var networks = new List<Network>();
        foreach (var (key, prefix, cls) in Modules)
            if (root[key] is { } value) networks.Add(Map(path, key, prefix, cls, value));
        int skipped = 0;
        foreach (DictionaryEntry e in root)
        {
            if (e.Key is "G" or "G_ema" or "D") continue;
            int n = Tensors(path, e.Value, $"{e.Key}").Count;
            if (e.Key as string == AugmentPipe) skipped = n;
            else if (n > 0) throw AnyResException.ForFile(path, $"entry '{e.Key}' holds {n} tensors that AnyRes does not import");
        }
        return new OfficialSnapshot(networks, skipped);
    }

    static Network Map(string path, string key, string prefix, string cls, object value)
    {
        if (value is not PersistentObject obj) throw AnyResException.ForFile(path, $"{key} is {Describe(value)}, not a persistent {cls}");
        if (obj.ClassName != cls) throw AnyResException.ForFile(path, $"{key} is a {obj.ClassName}, expected a {cls}");
        if (obj.State["_init_args"] is object[] { Length: > 0 }) throw AnyResException.ForFile(path, $"{key} was constructed with positional arguments, which the reference {cls} does not take");
        if (obj.State["_init_kwargs"] is not Hashtable kwargs) throw AnyResException.ForFile(path, $"{key} has no constructor arguments (_init_kwargs)");
        object options;
        try
        {
            // Through text, so numbers convert as JSON numbers (an int where a float is expected), as in a fixture's JSON.
            var json = JsonNode.Parse(ToJson(kwargs, $"{key}._init_kwargs", 0)!.ToJsonString())!.AsObject();
            options = cls == "Generator" ? WithCfg(GeneratorOptions.FromReference(json)) : DiscriminatorOptions.FromReference(json);
        }
        catch (Exception e) when (e is AnyResException or InvalidOperationException or FormatException)
        {
            throw AnyResException.ForFile(path, $"{key}: {e.Message}", e);
        }
        var state = new List<(string, PickledTensor)>();
        var dropped = new HashSet<PickledTensor>(ReferenceEqualityComparer.Instance);
        StateDict(path, obj, key, "", state, dropped, 0);
        var consumed = state.Select(s => s.Item2).Concat(dropped).ToHashSet(ReferenceEqualityComparer.Instance);
        foreach (var (where, t) in Tensors(path, obj, key))
            if (!consumed.Contains(t)) throw AnyResException.ForFile(path, $"{where} is a tensor outside {key}'s state dict (not a parameter or buffer)");
        return new Network(prefix, options, state, dropped.Count);
    }

    /// <summary>train.py's --cfg name for a generator's kwargs: stylegan3-r = 1×1 convolutions with radial filters.</summary>
    static GeneratorOptions WithCfg(GeneratorOptions o) => o with { Cfg = o.ConvKernel == 1 && o.UseRadialFilters ? "stylegan3-r" : "stylegan3-t" };

    /// <summary>
    /// torch.nn.Module.state_dict(): the module's parameters, its buffers not in _non_persistent_buffers_set, then each child's
    /// entries under "child.". Non-persistent buffers are collected separately (the constructor recomputes them).
    /// </summary>
    static void StateDict(string path, PersistentObject m, string where, string prefix, List<(string, PickledTensor)> state, HashSet<PickledTensor> dropped, int depth)
    {
        if (depth > MaxNesting) throw AnyResException.ForFile(path, $"{where}: modules nested deeper than {MaxNesting}");
        Hashtable Field(string name) => m.State[name] as Hashtable ?? throw AnyResException.ForFile(path, $"{where} ({m.ClassName}) has no {name}: not a torch module");
        var nonPersistent = m.State["_non_persistent_buffers_set"] as IEnumerable ?? Array.Empty<object>();
        var skip = nonPersistent.Cast<object>().ToHashSet();
        foreach (var (field, isBuffer) in new[] { ("_parameters", false), ("_buffers", true) })
        {
            var entries = Field(field);
            foreach (var name in Keys(entries))
            {
                var v = entries[name];
                if (v is null) continue;
                if (v is not PickledTensor t) throw AnyResException.ForFile(path, $"{where}.{name} is {Describe(v)}, not a tensor");
                if (isBuffer && skip.Contains(name)) dropped.Add(t);
                else state.Add((prefix + name, t));
            }
        }
        var children = Field("_modules");
        foreach (var name in Keys(children))
        {
            var child = children[name];
            if (child is null) continue;
            if (child is not PersistentObject c) throw AnyResException.ForFile(path, $"{where}.{name} is {Describe(child)}, not a persistent StyleGAN3 module");
            StateDict(path, c, $"{where}.{name}", $"{prefix}{name}.", state, dropped, depth + 1);
        }
    }

    /// <summary>Insertion order for OrderedDicts (torch 1.x keeps parameters in one); a plain dict's order is not kept by the reader.</summary>
    static IEnumerable<object> Keys(Hashtable h) => h is OrderedHashtable o ? o.OrderedKeys : h.Keys.Cast<object>();

    /// <summary>Every tensor reachable from a value (each container visited once: pickles may share or nest objects), with a path for messages.</summary>
    static List<(string Where, PickledTensor Tensor)> Tensors(string path, object? value, string where)
    {
        var found = new List<(string, PickledTensor)>();
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        void Visit(object? v, string at, int depth)
        {
            if (depth > MaxNesting) throw AnyResException.ForFile(path, $"{at}: objects nested deeper than {MaxNesting}");
            if (v is PickledTensor t) { found.Add((at, t)); return; }
            if (v is null or string || !seen.Add(v)) return;
            switch (v)
            {
                case PersistentObject p: Visit(p.State, at, depth + 1); break;
                case Hashtable h:
                    foreach (DictionaryEntry e in h) Visit(e.Value, e.Key is "_parameters" or "_buffers" or "_modules" ? at : $"{at}.{e.Key}", depth + 1);
                    break;
                case IList list:
                    for (int i = 0; i < list.Count; i++) Visit(list[i], $"{at}[{i}]", depth + 1);
                    break;
            }
        }
        Visit(value, where, 0);
        return found;
    }

    /// <summary>Constructor arguments as JSON (dicts, lists/tuples, numbers, strings, booleans, None); anything else is refused.</summary>
    static JsonNode? ToJson(object? v, string where, int depth) => depth > MaxNesting ? throw new AnyResException($"{where}: nested deeper than {MaxNesting}") : v switch
    {
        null => null,
        string s => s,
        bool b => b,
        int i => i,
        long l => l,
        double d => d,
        Hashtable h => new JsonObject(Keys(h).Select(k => KeyValuePair.Create(k as string ?? throw new AnyResException($"{where} has a non-string key"), ToJson(h[k], $"{where}.{k}", depth + 1)))),
        IList list => new JsonArray(list.Cast<object?>().Select((x, i) => ToJson(x, $"{where}[{i}]", depth + 1)).ToArray()),
        _ => throw new AnyResException($"{where} is {Describe(v)}, which has no option counterpart"),
    };

    static string Describe(object? v) => v switch
    {
        null => "None",
        IList => "a list",
        Hashtable => "a dict",
        PersistentObject p => $"a {p.ClassName}",
        PickledTensor => "a tensor",
        _ => $"a {v.GetType().Name}",
    };

    /// <summary>Parameters per network (the summary's count).</summary>
    public static long Parameters(Network n) => n.State.Where(s => s.Tensor.IsParameter).Sum(s => s.Tensor.Size.Aggregate(1L, (a, b) => a * b));

    /// <summary>
    /// Writes the snapshot as an AnyRes checkpoint, strictly: each network is built from its options and the snapshot's state
    /// dict must match it exactly (no missing, extra or mis-shaped tensor) before anything is written; the file is atomic.
    /// The tensors written are the snapshot's own, in the module's order and dtype (what loading them into the module would hold).
    /// </summary>
    public void Save(string source, string outPath, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var entries = new List<NetworkCheckpoint.TensorEntry>();
        nn.Module? module = null;
        object? built = null;
        try
        {
            foreach (var n in Networks)
            {
                var tensors = n.State.ToDictionary(s => n.Prefix + s.Key, s => s.Tensor);
                // Built only for its state-dict layout (keys, shapes, dtypes); G_ema reuses G's when their options agree.
                if (!Equals(built, n.Options))
                {
                    module?.Dispose();
                    module = Layout(n.Options);
                    built = n.Options;
                }
                var pairs = NetworkCheckpoint.Match(source, tensors.ToDictionary(kv => kv.Key, kv => new NetworkCheckpoint.TensorInfo(kv.Value.Size, kv.Value.IsFloatingPoint)), [(n.Prefix, module!)]);
                entries.Add(new(n.Prefix, n.Options, pairs.Select(p => Entry(p.Name, tensors[p.Name], p.Target.dtype)).ToList()));
            }
        }
        finally { module?.Dispose(); }
        NetworkCheckpoint.SaveTensors(outPath, entries, metadata);
    }

    /// <summary>
    /// The network these options describe, for its state-dict layout. Built on the CPU: TorchSharp's default device is
    /// process-wide, so switching it to the meta device here would move other threads' tensors (a viewer rendering, tests).
    /// </summary>
    static nn.Module Layout(object options) => options switch
    {
        GeneratorOptions g => new Generator(g),
        DiscriminatorOptions d => new Discriminator(d),
        _ => throw new InvalidOperationException(),
    };

    /// <summary>The snapshot's elements as they are when the module holds the same dtype (every published file), else converted.</summary>
    static SafetensorsFile.Entry Entry(string name, PickledTensor t, ScalarType type) =>
        t.DType == type
            ? new(name, type, t.Size, s => s.Write(t.Bytes().Span))
            : new(name, type, t.Size, s =>
            {
                using var source = t.ToTensor();
                using var converted = source.to(type);
                if (converted.numel() > 0) s.Write(converted.bytes);
            });

    /// <summary>
    /// The AnyRes checkpoint for a snapshot, imported once into the cache (keyed by the file's SHA-256, so a changed file is
    /// imported again) and reused: every verb that loads a network takes a .pkl this way.
    /// </summary>
    public static string Cached(string path)
    {
        if (!File.Exists(path)) throw AnyResException.ForFile(path, "file not found");
        string hash;
        using (var s = File.OpenRead(path)) hash = Convert.ToHexStringLower(SHA256.HashData(s));
        var target = Path.Combine(CacheFolder(), "imported", hash + ".safetensors");
        if (File.Exists(target)) return target;
        var snapshot = Read(path);
        snapshot.Save(path, target, snapshot.Metadata(path, hash));
        return target;
    }

    /// <summary>$ANYRES_CACHE, else $XDG_CACHE_HOME/anyres, else ~/.cache/anyres.</summary>
    public static string CacheFolder()
    {
        if (Environment.GetEnvironmentVariable("ANYRES_CACHE") is { Length: > 0 } env) return env;
        if (Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg) return Path.Combine(xdg, "anyres");
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "anyres");
    }

    /// <summary>Where the checkpoint came from, kept in its header (shown by anyres info).</summary>
    public IReadOnlyDictionary<string, string> Metadata(string path, string? sha256 = null)
    {
        var m = new Dictionary<string, string> { ["anyres.imported_from"] = Path.GetFileName(path), ["anyres.imported_kind"] = Kind() };
        if (sha256 is not null) m["anyres.imported_sha256"] = sha256;
        return m;
    }

    /// <summary>"stylegan3-t global", "stylegan3-r patch", ... from the generator's options.</summary>
    public string Kind()
    {
        var g = Networks.Select(n => n.Options).OfType<GeneratorOptions>().First();
        return $"{g.Cfg} {(g.TrainingMode == TrainingMode.Patch ? "patch" : "global")}{(g.Panorama ? "-360" : "")}";
    }

    /// <summary>The one-screen summary printed by anyres import.</summary>
    public IEnumerable<string> Summary()
    {
        var g = Networks.Select(n => n.Options).OfType<GeneratorOptions>().First();
        yield return $"kind: {Kind()}, {g.ImgResolution}x{g.ImgResolution} px";
        yield return $"latents: z {g.ZDim}, w {g.WDim}, {g.NumWs} ws; {(g.CDim > 0 ? $"conditional on {g.CDim} classes" : "unconditional")}";
        if (g.Panorama) yield return $"panorama: {g.Fov}° per frame, {360.0 / g.Fov:0.##} frames per turn";
        if (g.TrainingMode == TrainingMode.Patch) yield return $"scale mapping: zoom {g.ScaleMappingMin}..{g.ScaleMappingMax} ({g.ScaleMappingNorm})";
        foreach (var n in Networks)
            yield return $"{n.Prefix.TrimEnd('.'),-6} {n.State.Count,4} tensors, {Parameters(n):N0} parameters{(n.DroppedBuffers > 0 ? $" ({n.DroppedBuffers} non-persistent buffers left out)" : "")}";
        if (SkippedAugmentTensors > 0) yield return $"augment_pipe: {SkippedAugmentTensors} tensors of the training-time augmentation, not imported";
        yield return $"options: {JsonSerializer.Serialize(g, NetworkCheckpoint.Json)}";
    }
}
