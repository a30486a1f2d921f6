using System.Collections;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Core.Pickle;

/// <summary>A Python dict that keeps insertion order (OrderedDict, EasyDict): module children and parameters are named in that order.</summary>
public sealed class OrderedHashtable : Hashtable
{
    readonly List<object> order = [];

    public IReadOnlyList<object> OrderedKeys => order;

    public override object? this[object key]
    {
        get => base[key];
        set
        {
            if (!ContainsKey(key)) order.Add(key);
            base[key] = value;
        }
    }

    public override void Add(object key, object? value)
    {
        base.Add(key, value);
        order.Add(key);
    }
}

/// <summary>
/// An object written by torch_utils.persistence (every StyleGAN3 network and sub-module): the class name and the object's
/// <c>__dict__</c>. The embedded module source is dropped unread: it is never executed.
/// </summary>
public sealed record PersistentObject(string ClassName, int Version, Hashtable State);

/// <summary>A tensor as torch._utils._rebuild_tensor_v2 describes it: a strided view of a storage (a 1-D CPU tensor).</summary>
public sealed class PickledTensor(Tensor storage, long offset, long[] size, long[] stride, bool isParameter)
{
    public Tensor Storage { get; } = storage;
    public long Offset { get; } = offset;
    public long[] Size { get; } = size;
    public long[] Stride { get; } = stride;
    public bool IsParameter { get; init; } = isParameter;

    public ScalarType DType => Storage.dtype;

    /// <summary>A view of the storage with this tensor's geometry (no copy; valid while the storage lives).</summary>
    public Tensor View() => Storage.as_strided(Size, Stride, Offset);
}

/// <summary>numpy.dtype as pickled: a type code such as 'f8' or 'i8' and, after BUILD, its byte order.</summary>
public sealed class NumpyDType(string code)
{
    public string Code { get; } = code;
    public bool BigEndian { get; private set; }

    /// <summary>Called by the unpickler for BUILD: state (version, byte order, ...); '>' is big-endian.</summary>
    public void __setstate__(object[] state)
    {
        if (state.Length > 1 && state[1] is string order) BigEndian = order == ">";
    }

    /// <summary>The scalar of this dtype stored in <paramref name="bytes"/> (little-endian) as a .NET value.</summary>
    public object Decode(ReadOnlySpan<byte> bytes)
    {
        if (BigEndian) throw new NotSupportedException($"big-endian numpy dtype '{Code}'");
        return (Code, bytes.Length) switch
        {
            ("f8", 8) => BitConverter.ToDouble(bytes),
            ("f4", 4) => (double)BitConverter.ToSingle(bytes),
            ("i8", 8) => BitConverter.ToInt64(bytes),
            ("i4", 4) => (long)BitConverter.ToInt32(bytes),
            ("u1", 1) => (long)bytes[0],
            ("b1", 1) => bytes[0] != 0,
            _ => throw new NotSupportedException($"numpy scalar of dtype '{Code}' with {bytes.Length} bytes"),
        };
    }
}

/// <summary>numpy.ndarray as pickled (_reconstruct then BUILD): shape, dtype and raw little-endian bytes.</summary>
public sealed class NumpyArray
{
    public long[] Shape { get; private set; } = [];
    public NumpyDType? DType { get; private set; }
    public byte[] Data { get; private set; } = [];

    /// <summary>BUILD state: (version, shape, dtype, is_fortran, raw bytes).</summary>
    public void __setstate__(object[] state)
    {
        if (state.Length != 5 || state[1] is not object[] shape || state[2] is not NumpyDType dtype || state[4] is not byte[] data)
            throw new NotSupportedException("numpy array state other than (version, shape, dtype, fortran, bytes)");
        Shape = shape.Select(Convert.ToInt64).ToArray();
        DType = dtype;
        Data = data;
    }

    /// <summary>The elements as .NET values (int64, float64 or bool), in C order.</summary>
    public IEnumerable<object> Values()
    {
        int size = int.TryParse(DType?.Code[1..], out var n) && n > 0 ? n : throw new NotSupportedException($"numpy dtype '{DType?.Code}'");
        for (int i = 0; i + size <= Data.Length; i += size) yield return DType!.Decode(Data.AsSpan(i, size));
    }
}
