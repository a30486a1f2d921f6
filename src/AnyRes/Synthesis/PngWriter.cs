using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace AnyRes.Synthesis;

/// <summary>
/// Writes an 8-bit greyscale or RGB PNG row by row, so an image of any size costs two rows of memory. Every row uses the Up
/// filter (difference to the row above, the best single filter for smooth images); IDAT chunks are cut every 64 KiB.
/// </summary>
public sealed class PngWriter : IDisposable
{
    static readonly byte[] Signature = { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A };

    readonly Stream output;
    readonly ChunkStream idat;
    readonly ZLibStream zlib;
    readonly byte[] previous, filtered;
    int rowsWritten;
    bool finished;

    public int Width { get; }
    public int Height { get; }
    public int Channels { get; }

    public PngWriter(Stream output, int width, int height, int channels, CompressionLevel level = CompressionLevel.Fastest)
    {
        if (width < 1 || height < 1) throw new ArgumentException($"PNG size must be at least 1x1, got {width}x{height}");
        if (channels is not (1 or 3)) throw new ArgumentException($"PNG writer supports 1 or 3 channels, got {channels}");
        (this.output, Width, Height, Channels) = (output, width, height, channels);
        output.Write(Signature);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;                                   // bit depth
        header[9] = channels == 3 ? (byte)2 : (byte)0;   // colour type: truecolour or greyscale; compression, filter, interlace 0
        WriteChunk(output, "IHDR", header);
        previous = new byte[width * channels];
        filtered = new byte[1 + width * channels];
        filtered[0] = 2;                                 // filter type Up
        idat = new ChunkStream(output, "IDAT");
        zlib = new ZLibStream(idat, level, leaveOpen: true);
    }

    public void WriteRow(ReadOnlySpan<byte> row)
    {
        if (finished || rowsWritten == Height) throw new InvalidOperationException($"PNG already has its {Height} rows");
        if (row.Length != previous.Length) throw new ArgumentException($"row has {row.Length} bytes, expected {previous.Length}");
        for (int i = 0; i < row.Length; i++) filtered[i + 1] = (byte)(row[i] - previous[i]);
        row.CopyTo(previous);
        zlib.Write(filtered);
        rowsWritten++;
    }

    /// <summary>Ends the image; throws when rows are missing, so a short image is never mistaken for a complete one.</summary>
    public void Finish()
    {
        if (finished) return;
        if (rowsWritten != Height) throw new InvalidOperationException($"PNG got {rowsWritten} of {Height} rows");
        zlib.Dispose();
        idat.Flush();
        WriteChunk(output, "IEND", ReadOnlySpan<byte>.Empty);
        finished = true;
    }

    public void Dispose() => zlib.Dispose();

    static void WriteChunk(Stream s, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> head = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(head, data.Length);
        Encoding.ASCII.GetBytes(type, head[4..]);
        s.Write(head);
        s.Write(data);
        uint crc = Crc32.Append(Crc32.Append(0, head[4..]), data);
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(tail, crc);
        s.Write(tail);
    }

    /// <summary>Collects compressed bytes and emits them as chunks of one type.</summary>
    sealed class ChunkStream(Stream output, string type) : Stream
    {
        readonly byte[] buffer = new byte[1 << 16];
        int count;

        public override void Write(byte[] data, int offset, int length) => Write(data.AsSpan(offset, length));

        public override void Write(ReadOnlySpan<byte> data)
        {
            while (data.Length > 0)
            {
                int n = Math.Min(data.Length, buffer.Length - count);
                data[..n].CopyTo(buffer.AsSpan(count));
                count += n;
                data = data[n..];
                if (count == buffer.Length) Flush();
            }
        }

        public override void Flush()
        {
            if (count == 0) return;
            WriteChunk(output, type, buffer.AsSpan(0, count));
            count = 0;
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] b, int o, int c) => throw new NotSupportedException();
        public override long Seek(long o, SeekOrigin s) => throw new NotSupportedException();
        public override void SetLength(long v) => throw new NotSupportedException();
    }
}

/// <summary>CRC-32 (ISO-HDLC, the PNG/zlib polynomial 0xEDB88320), table-driven.</summary>
public static class Crc32
{
    static readonly uint[] Table = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    /// <summary>Continues a CRC (start with 0) over more bytes.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        uint c = ~crc;
        foreach (byte b in data) c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        return ~c;
    }
}
