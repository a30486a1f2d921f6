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

/// <summary>A storage's elements: <see cref="Numel"/> little-endian values of <see cref="Type"/> from <see cref="Offset"/> in <see cref="Data"/>.</summary>
public sealed record PickledStorage(byte[] Data, int Offset, ScalarType Type, int ElementSize, long Numel);

/// <summary>A tensor as torch._utils._rebuild_tensor_v2 describes it: a strided view (in elements) of a storage.</summary>
public sealed class PickledTensor(PickledStorage storage, long offset, long[] size, long[] stride, bool isParameter)
{
    public PickledStorage Storage { get; } = storage;
    public long Offset { get; } = offset;
    public long[] Size { get; } = size;
    public long[] Stride { get; } = stride;
    public bool IsParameter { get; } = isParameter;

    public ScalarType DType => Storage.Type;
    public long Numel => Size.Aggregate(1L, (a, b) => a * b);
    public bool IsFloatingPoint => DType is ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16;

    /// <summary>The elements in C order as raw bytes: a slice of the storage when the view is contiguous, else gathered.</summary>
    public ReadOnlyMemory<byte> Bytes()
    {
        int e = Storage.ElementSize;
        long start = Storage.Offset + Offset * e;
        if (IsContiguous()) return Storage.Data.AsMemory((int)start, (int)(Numel * e));
        var result = new byte[Numel * e];
        int at = 0;
        void Gather(int dim, long element)
        {
            if (dim == Size.Length)
            {
                Storage.Data.AsSpan((int)(Storage.Offset + element * e), e).CopyTo(result.AsSpan(at));
                at += e;
                return;
            }
            for (long i = 0; i < Size[dim]; i++) Gather(dim + 1, element + i * Stride[dim]);
        }
        if (Numel > 0) Gather(0, Offset);
        return result;
    }

    bool IsContiguous()
    {
        long expected = 1;
        for (int d = Size.Length - 1; d >= 0; d--)
        {
            if (Size[d] != 1 && Stride[d] != expected) return false;
            expected *= Size[d];
        }
        return true;
    }

    /// <summary>A CPU tensor holding a copy of the elements.</summary>
    public Tensor ToTensor()
    {
        var t = torch.empty(Size, DType);
        if (Numel > 0) t.bytes = Bytes().ToArray();
        return t;
    }
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

}
