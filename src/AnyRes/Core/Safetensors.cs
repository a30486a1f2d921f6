using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Core;

/// <summary>
/// The safetensors format (8-byte little-endian header length, a JSON header, raw little-endian data), read and written
/// without Python. Checkpoints and the parity fixtures both use it.
/// </summary>
public sealed class SafetensorsFile
{
    /// <summary>Tensors in file order; CPU tensors owned by the caller once read.</summary>
    public required IReadOnlyDictionary<string, Tensor> Tensors { get; init; }

    /// <summary>The header's <c>__metadata__</c> string map (empty when absent).</summary>
    public required IReadOnlyDictionary<string, string> Metadata { get; init; }

    /// <summary>Header limit: a larger header is treated as a corrupt file rather than allocated.</summary>
    const long MaxHeaderBytes = 100L << 20;

    static readonly Dictionary<string, (ScalarType type, int size)> DTypes = new()
    {
        ["F32"] = (ScalarType.Float32, 4), ["F64"] = (ScalarType.Float64, 8), ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2), ["I64"] = (ScalarType.Int64, 8), ["I32"] = (ScalarType.Int32, 4),
        ["I16"] = (ScalarType.Int16, 2), ["I8"] = (ScalarType.Int8, 1), ["U8"] = (ScalarType.Byte, 1), ["BOOL"] = (ScalarType.Bool, 1),
    };

    public static SafetensorsFile Read(string path)
    {
        if (!File.Exists(path)) throw AnyResException.ForFile(path, "file not found");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (IOException e) { throw AnyResException.ForFile(path, $"cannot read: {e.Message}", e); }
        return Parse(bytes, path);
    }

    public static SafetensorsFile Parse(byte[] bytes, string nameForErrors)
    {
        if (bytes.Length < 8) throw AnyResException.ForFile(nameForErrors, "not a safetensors file (shorter than its 8-byte header length)");
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        if (headerLength <= 0 || headerLength > MaxHeaderBytes || 8 + headerLength > bytes.Length)
            throw AnyResException.ForFile(nameForErrors, "not a safetensors file (bad header length)");
        JsonObject header;
        try
        {
            header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength))?.AsObject() ?? throw new JsonException("the header is null");
            _ = header.Count;   // builds the property map now: a repeated name throws ArgumentException here, not mid-read
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            throw AnyResException.ForFile(nameForErrors, "not a safetensors file (header is not a JSON object with distinct names)", e);
        }

        long dataStart = 8 + headerLength;
        var metadata = new Dictionary<string, string>();
        var tensors = new Dictionary<string, Tensor>();
        try
        {
            foreach (var (name, node) in header)
            {
                if (name == "__metadata__")
                {
                    foreach (var (k, v) in node!.AsObject()) metadata[k] = v!.GetValue<string>();
                    continue;
                }
                var entry = node!.AsObject();
                var dtypeName = entry["dtype"]!.GetValue<string>();
                if (!DTypes.TryGetValue(dtypeName, out var dt)) throw AnyResException.ForFile(nameForErrors, $"tensor '{name}' has unsupported dtype {dtypeName}");
                var shape = entry["shape"]!.AsArray().Select(s => s!.GetValue<long>()).ToArray();
                var offsets = entry["data_offsets"]!.AsArray().Select(s => s!.GetValue<long>()).ToArray();
                long count = shape.Aggregate(1L, (a, b) => a * b);
                if (offsets.Length != 2 || offsets[1] - offsets[0] != count * dt.size || dataStart + offsets[1] > bytes.Length || offsets[0] < 0)
                    throw AnyResException.ForFile(nameForErrors, $"tensor '{name}' has data offsets that do not match its shape or the file size");
                var t = torch.empty(shape, dt.type);
                if (count > 0) t.bytes = new Span<byte>(bytes, (int)(dataStart + offsets[0]), (int)(count * dt.size));
                tensors[name] = t;
            }
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException)
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw AnyResException.ForFile(nameForErrors, "not a safetensors file (malformed tensor entry)", e);
        }
        return new SafetensorsFile { Tensors = tensors, Metadata = metadata };
    }

    /// <summary>One tensor to write: its name, dtype, shape and a writer of its elements (C order, little-endian).</summary>
    public readonly record struct Entry(string Name, ScalarType Type, long[] Shape, Action<Stream> WriteData)
    {
        /// <summary>A tensor on any device, copied to the CPU only while it is written.</summary>
        public static Entry Of(string name, Tensor tensor) => new(name, tensor.dtype, tensor.shape, s =>
        {
            if (tensor.numel() == 0) return;
            using var cpu = tensor.detach().cpu().contiguous();
            s.Write(cpu.bytes);
        });
    }

    /// <summary>Writes <paramref name="tensors"/> (any device; copied to CPU) atomically, in the given order.</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(path, tensors.Select(kv => Entry.Of(kv.Key, kv.Value)).ToList(), metadata);

    /// <summary>
    /// Writes the entries atomically, in order. The header comes from dtypes and shapes alone and each entry's bytes go
    /// straight to the file, so writing holds no second copy of the data.
    /// </summary>
    public static void Write(string path, IReadOnlyList<Entry> entries, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        long offset = 0;
        foreach (var (name, type, shape, _) in entries)
        {
            var dtypeName = DTypes.FirstOrDefault(kv => kv.Value.type == type).Key ?? throw new ArgumentException($"tensor '{name}' has dtype {type}, which safetensors files here do not hold");
            long length = shape.Aggregate(1L, (a, b) => a * b) * DTypes[dtypeName].size;
            header[name] = new JsonObject
            {
                ["dtype"] = dtypeName,
                ["shape"] = new JsonArray(shape.Select(s => (JsonNode)s).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + length),
            };
            offset += length;
        }
        var headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (headerBytes.Length + 7) / 8 * 8;
        AtomicFile.Write(path, s =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(len, padded);
            s.Write(len);
            s.Write(headerBytes);
            for (int i = headerBytes.Length; i < padded; i++) s.WriteByte((byte)' ');
            long start = s.Position;
            foreach (var e in entries) e.WriteData(s);
            if (s.Position - start != offset) throw new InvalidOperationException($"wrote {s.Position - start} data bytes, the header describes {offset}");
        });
    }
}
