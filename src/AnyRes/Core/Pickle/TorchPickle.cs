using System.Buffers.Binary;
using System.Collections;
using System.Numerics;
using Razorvine.Pickle;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Core.Pickle;

/// <summary>
/// Reads a pickle of torch objects (a StyleGAN3 / anyres-gan network snapshot) without executing anything: every global is
/// checked against <see cref="SnapshotGlobals"/> by <see cref="PickleScanner"/> before Razorvine.Pickle builds a single object,
/// and each allowed global maps to a constructor here that only builds data (dicts, tensors, numpy values). Storages come as
/// <c>torch.storage._load_from_bytes(bytes)</c>, each a nested legacy torch.save stream (<see cref="LegacyStorage"/>); their
/// elements stay in the byte arrays the unpickler read (no copy), so a snapshot's data is held once.
/// </summary>
public sealed class TorchPickle
{
    /// <summary>The globals a network snapshot needs (protocol 4 pickles by torch 1.x/2.x with numpy 1.x or 2.x), and no others.</summary>
    public static readonly IReadOnlySet<string> SnapshotGlobals = new HashSet<string>
    {
        "torch_utils.persistence._reconstruct_persistent_obj",
        "collections.OrderedDict",
        "dnnlib.util.EasyDict",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter",
        "torch.storage._load_from_bytes",
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
        "numpy.ndarray",
        "numpy.dtype",
    };

    /// <summary>The decoded root object (for a snapshot, a dict with G, D, G_ema, ...).</summary>
    public object? Root { get; }

    /// <summary>Every storage read, in file order.</summary>
    public IReadOnlyList<PickledStorage> Storages { get; }

    TorchPickle(object? root, List<PickledStorage> storages) => (Root, Storages) = (root, storages);

    /// <summary>Per-thread list that the storage constructor appends to while one file is read.</summary>
    [ThreadStatic] static List<PickledStorage>? reading;
    [ThreadStatic] static string? readingName;

    static TorchPickle() => Register();

    /// <summary>Reads <paramref name="path"/>; any refusal or malformation is one AnyResException line that names the file.</summary>
    public static TorchPickle Read(string path)
    {
        if (!File.Exists(path)) throw AnyResException.ForFile(path, "file not found");
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        if (stream.Length == 0) throw AnyResException.ForFile(path, "empty file (0 bytes): not a network snapshot");
        if (stream.ReadByte() != 0x80) throw AnyResException.ForFile(path, "not a pickle (no PROTO opcode at its start)");
        stream.Position = 0;
        PickleScanner.Scan(stream, path, SnapshotGlobals, allowPersistentIds: false);
        stream.Position = 0;
        var list = new List<PickledStorage>();
        (reading, readingName) = (list, path);
        try
        {
            using var unpickler = new Unpickler();
            return new TorchPickle(unpickler.load(stream), list);
        }
        // What a malformed stream makes Razorvine or a constructor throw (a wrong type on the stack, a missing item, bad text).
        catch (Exception e) when (e is PickleException or InvalidCastException or NotSupportedException or InvalidOperationException or ArgumentException
            or IndexOutOfRangeException or NullReferenceException or KeyNotFoundException or FormatException or OverflowException or IOException
            or System.Reflection.TargetInvocationException)
        {
            throw AnyResException.ForFile(path, $"not a readable network snapshot: {Innermost(e).Message}", e);
        }
        finally { (reading, readingName) = (null, null); }
    }

    static Exception Innermost(Exception e) => e.InnerException is { } inner && e is PickleException or System.Reflection.TargetInvocationException ? Innermost(inner) : e;

    /// <summary>
    /// Razorvine's registry is process-wide and keyed by "module.name"; these entries are data builders only. The scanner, not
    /// this registry, decides what a file may name: Razorvine's own built-ins (datetime, decimal, ...) are never reached.
    /// </summary>
    static void Register()
    {
        void Add(string full, Func<object[], object?> build)
        {
            int dot = full.LastIndexOf('.');
            Unpickler.registerConstructor(full[..dot], full[(dot + 1)..], new Constructor(build));
        }
        Add("torch_utils.persistence._reconstruct_persistent_obj", PersistentObj);
        Add("collections.OrderedDict", _ => new OrderedHashtable());
        Add("dnnlib.util.EasyDict", _ => new OrderedHashtable());
        Add("torch._utils._rebuild_tensor_v2", RebuildTensor);
        Add("torch._utils._rebuild_parameter", RebuildParameter);
        Add("torch.storage._load_from_bytes", LoadFromBytes);
        foreach (var numpy in new[] { "numpy.core", "numpy._core" })
        {
            Add(numpy + ".multiarray._reconstruct", Reconstruct);
            Add(numpy + ".multiarray.scalar", Scalar);
        }
        Add("numpy.ndarray", _ => throw new NotSupportedException("numpy.ndarray called directly"));
        Add("numpy.dtype", a => new NumpyDType(a.Length > 0 && a[0] is string code ? code : throw new NotSupportedException("numpy.dtype without a type code")));
        foreach (var (type, element) in LegacyStorage.Types) Unpickler.registerConstructor("torch", type, new LegacyStorage.TypeMarker(type, element.Type, element.Size));
    }

    sealed class Constructor(Func<object[], object?> build) : IObjectConstructor
    {
        public object construct(object[] args) => build(args)!;
    }

    /// <summary>persistence._reconstruct_persistent_obj(meta): keeps class name, version and state; module_src is not kept.</summary>
    static object PersistentObj(object[] args)
    {
        if (args.Length != 1 || args[0] is not Hashtable meta) throw new NotSupportedException("_reconstruct_persistent_obj without its meta dict");
        if (meta["type"] as string != "class") throw new NotSupportedException($"persistent object of type '{meta["type"]}' (only 'class')");
        if (meta["class_name"] is not string name) throw new NotSupportedException("persistent object without a class name");
        if (meta["state"] is not Hashtable state) throw new NotSupportedException($"persistent {name} without a state dict");
        return new PersistentObject(name, meta["version"] is int v ? v : -1, state);
    }

    /// <summary>_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, backward_hooks[, metadata]).</summary>
    static object RebuildTensor(object[] a)
    {
        if (a.Length < 4 || a[0] is not PickledStorage storage || a[2] is not object[] size || a[3] is not object[] stride)
            throw new NotSupportedException("_rebuild_tensor_v2 with arguments other than (storage, offset, size, stride, ...)");
        var t = new PickledTensor(storage, Convert.ToInt64(a[1]), size.Select(Convert.ToInt64).ToArray(), stride.Select(Convert.ToInt64).ToArray(), false);
        if (t.Size.Length != t.Stride.Length || t.Offset < 0 || t.Size.Any(n => n < 0) || t.Stride.Any(n => n < 0))
            throw new NotSupportedException($"tensor geometry size [{string.Join(", ", t.Size)}] stride [{string.Join(", ", t.Stride)}] offset {t.Offset} is invalid");
        long last = t.Offset + t.Size.Zip(t.Stride, (n, st) => n == 0 ? 0 : (n - 1) * st).Sum();
        if (t.Size.All(n => n > 0) && last >= storage.Numel)
            throw new NotSupportedException($"tensor [{string.Join(", ", t.Size)}] reaches element {last} of a storage of {storage.Numel}");
        return t;
    }

    /// <summary>_rebuild_parameter(data, requires_grad, backward_hooks): the same tensor, marked as a parameter.</summary>
    static object RebuildParameter(object[] a) =>
        a.Length >= 1 && a[0] is PickledTensor t ? new PickledTensor(t.Storage, t.Offset, t.Size, t.Stride, true) : throw new NotSupportedException("_rebuild_parameter without a tensor");

    static object LoadFromBytes(object[] a)
    {
        if (a.Length != 1 || a[0] is not byte[] bytes) throw new NotSupportedException("_load_from_bytes without a bytes argument");
        var storage = LegacyStorage.Read(bytes, $"{readingName}: storage {reading!.Count}");
        reading.Add(storage);
        return storage;
    }

    /// <summary>numpy _reconstruct(ndarray, (0,), b'b'): an empty array that BUILD fills.</summary>
    static object Reconstruct(object[] a) => new NumpyArray();

    /// <summary>numpy scalar(dtype, bytes).</summary>
    static object Scalar(object[] a) =>
        a.Length == 2 && a[0] is NumpyDType dtype && a[1] is byte[] bytes ? dtype.Decode(bytes) : throw new NotSupportedException("numpy scalar other than (dtype, bytes)");

    internal static BigInteger LegacyMagic => BigInteger.Parse("119547037146038801333356");
}

/// <summary>
/// One storage written by the legacy (non-zip) torch.save: pickles of the magic number, the protocol version (1001) and
/// sys_info, the main pickle whose persistent id describes the storage ('storage', type, key, location, numel, view), a
/// pickle of the storage keys, then per key an int64 element count and the raw little-endian elements.
/// </summary>
internal static class LegacyStorage
{
    public static readonly (string Name, (ScalarType Type, int Size) Element)[] Types =
    [
        ("FloatStorage", (ScalarType.Float32, 4)), ("DoubleStorage", (ScalarType.Float64, 8)), ("HalfStorage", (ScalarType.Float16, 2)),
        ("BFloat16Storage", (ScalarType.BFloat16, 2)), ("LongStorage", (ScalarType.Int64, 8)), ("IntStorage", (ScalarType.Int32, 4)),
        ("ShortStorage", (ScalarType.Int16, 2)), ("CharStorage", (ScalarType.Int8, 1)), ("ByteStorage", (ScalarType.Byte, 1)), ("BoolStorage", (ScalarType.Bool, 1)),
    ];

    static readonly IReadOnlySet<string> Globals = Types.Select(t => "torch." + t.Name).ToHashSet();
    static readonly IReadOnlySet<string> NoGlobals = new HashSet<string>();

    sealed record Spec(string Key, ScalarType Type, int Size, long Numel);

    /// <summary>What GLOBAL torch.FloatStorage (etc.) resolves to: only a name for the element type, never called.</summary>
    internal sealed record TypeMarker(string Name, ScalarType Type, int Size) : IObjectConstructor
    {
        public object construct(object[] args) => throw new NotSupportedException($"torch.{Name} called directly");
    }

    /// <summary>Resolves the storage's persistent id without reading any data yet.</summary>
    sealed class Reader : Unpickler
    {
        protected override object persistentLoad(object pid)
        {
            if (pid is not object[] { Length: 6 } t || t[0] as string != "storage" || t[2] is not string key || t[3] is not string)
                throw new NotSupportedException("persistent id other than ('storage', type, key, location, numel, view)");
            if (t[1] is not TypeMarker type) throw new NotSupportedException("storage id without a storage type");
            if (t[5] is not null) throw new NotSupportedException("storage views inside a saved storage");
            return new Spec(key, type.Type, type.Size, Convert.ToInt64(t[4]));
        }
    }

    public static PickledStorage Read(byte[] bytes, string name)
    {
        using var s = new MemoryStream(bytes, writable: false);
        using var reader = new Reader();
        object Next(IReadOnlySet<string> globals, bool persistent)
        {
            long start = s.Position;
            long end = PickleScanner.Scan(s, name, globals, persistent);
            return reader.loads(bytes.AsSpan((int)start, (int)(end - start)).ToArray());
        }
        if (Next(NoGlobals, false) is not BigInteger magic || magic != TorchPickle.LegacyMagic) throw AnyResException.ForFile(name, "not a legacy torch.save stream (bad magic number)");
        if (Convert.ToInt64(Next(NoGlobals, false)) != 1001) throw AnyResException.ForFile(name, "legacy torch.save protocol other than 1001");
        if (Next(NoGlobals, false) is not Hashtable sys || sys["little_endian"] is not true) throw AnyResException.ForFile(name, "big-endian or unknown byte order");
        if (Next(Globals, true) is not Spec spec) throw AnyResException.ForFile(name, "the saved object is not a single storage");
        if (Next(NoGlobals, false) is not ArrayList keys || keys.Count != 1 || keys[0] as string != spec.Key)
            throw AnyResException.ForFile(name, "storage keys do not match the saved storage");
        if (bytes.Length - s.Position < 8) throw AnyResException.ForFile(name, "truncated storage (no element count)");
        long count = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan((int)s.Position, 8));
        long offset = s.Position + 8;
        if (count != spec.Numel) throw AnyResException.ForFile(name, $"storage holds {count} elements, its id says {spec.Numel}");
        if (offset + count * spec.Size != bytes.Length)
            throw AnyResException.ForFile(name, $"storage data is {bytes.Length - offset} bytes, {count} × {spec.Size} expected");
        return new PickledStorage(bytes, (int)offset, spec.Type, spec.Size, count);
    }

}
