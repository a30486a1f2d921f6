using System.Buffers.Binary;
using System.Numerics;
using Google.Protobuf;

namespace AnyRes.Training;

/// <summary>
/// A TensorBoard event file (<c>events.out.tfevents.*</c>) of scalar summaries, written without TensorFlow: each record is
/// its length (uint64 LE), the masked CRC32C of the length, the serialised <c>Event</c> protobuf and its masked CRC32C.
/// Event: wall_time = 1 (double), step = 2 (int64), file_version = 3 (string), summary = 5; Summary.value = 1;
/// Summary.Value: tag = 1 (string), simple_value = 2 (float).
/// </summary>
public sealed class TensorBoardWriter : IDisposable
{
    readonly FileStream _stream;
    public string Path { get; }

    public TensorBoardWriter(string folder, DateTimeOffset? now = null)
    {
        var time = now ?? DateTimeOffset.UtcNow;
        Path = System.IO.Path.Combine(folder, $"events.out.tfevents.{time.ToUnixTimeSeconds()}.{Environment.MachineName}");
        _stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
        WriteEvent(Event(time.ToUnixTimeMilliseconds() / 1000.0, 0, o => { o.WriteTag(3, WireFormat.WireType.LengthDelimited); o.WriteString("brain.Event:2"); }));
        _stream.Flush();
    }

    /// <summary>Appends one event holding every scalar of <paramref name="values"/> at <paramref name="step"/>, then flushes.</summary>
    public void AddScalars(long step, double wallTime, IEnumerable<KeyValuePair<string, double>> values)
    {
        var summary = new MemoryStream();
        using (var s = new CodedOutputStream(summary, leaveOpen: true))
        {
            foreach (var (tag, value) in values)
            {
                var v = new MemoryStream();
                using (var o = new CodedOutputStream(v, leaveOpen: true))
                {
                    o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString(tag);
                    o.WriteTag(2, WireFormat.WireType.Fixed32); o.WriteFloat((float)value);
                }
                s.WriteTag(1, WireFormat.WireType.LengthDelimited); s.WriteBytes(ByteString.CopyFrom(v.ToArray()));
            }
        }
        WriteEvent(Event(wallTime, step, o => { o.WriteTag(5, WireFormat.WireType.LengthDelimited); o.WriteBytes(ByteString.CopyFrom(summary.ToArray())); }));
        _stream.Flush(flushToDisk: false);
    }

    static byte[] Event(double wallTime, long step, Action<CodedOutputStream> body)
    {
        var ms = new MemoryStream();
        using (var o = new CodedOutputStream(ms, leaveOpen: true))
        {
            o.WriteTag(1, WireFormat.WireType.Fixed64); o.WriteDouble(wallTime);
            o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt64(step);
            body(o);
        }
        return ms.ToArray();
    }

    void WriteEvent(byte[] data)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], MaskedCrc(header[..8]));
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, MaskedCrc(data));
        _stream.Write(header);
        _stream.Write(data);
        _stream.Write(footer);
    }

    /// <summary>CRC-32C (Castagnoli) of <paramref name="data"/>.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        foreach (var b in data) crc = BitOperations.Crc32C(crc, b);
        return ~crc;
    }

    /// <summary>TFRecord's masked CRC: rotate right by 15 and add a constant.</summary>
    public static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        uint crc = Crc32C(data);
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    }

    public void Dispose() => _stream.Dispose();
}
