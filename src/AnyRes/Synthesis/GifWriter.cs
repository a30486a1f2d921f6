using System.Buffers.Binary;

namespace AnyRes.Synthesis;

/// <summary>
/// Writes an animated GIF89a that loops forever. Colours go through one fixed palette of 6×7×6 levels (R×G×B; green gets the extra
/// level because the eye resolves it best) with 8×8 ordered dithering, so frames need no per-frame palette search and dithering
/// does not crawl between frames. Pixel indices are LZW-compressed (GIF variant: 8-bit root, 9–12-bit codes, LSB first).
/// </summary>
public sealed class GifWriter
{
    const int LevelsR = 6, LevelsG = 7, LevelsB = 6;
    static readonly int[,] Bayer = BuildBayer();

    readonly Stream output;
    public int Width { get; }
    public int Height { get; }
    bool finished;

    public GifWriter(Stream output, int width, int height)
    {
        if (width is < 1 or > 65535 || height is < 1 or > 65535) throw new ArgumentException($"GIF size must be 1..65535, got {width}x{height}");
        (this.output, Width, Height) = (output, width, height);
        output.Write("GIF89a"u8);
        Span<byte> screen = stackalloc byte[7];
        BinaryPrimitives.WriteUInt16LittleEndian(screen, (ushort)width);
        BinaryPrimitives.WriteUInt16LittleEndian(screen[2..], (ushort)height);
        screen[4] = 0xF7;   // global colour table present, 8 bits colour resolution, 256 entries
        output.Write(screen);
        output.Write(Palette());
        output.Write([0x21, 0xFF, 11, .. "NETSCAPE2.0"u8, 3, 1, 0, 0, 0]);   // loop forever
    }

    /// <summary>The 256-entry colour table (R, G, B bytes): the 252 lattice colours, then black padding.</summary>
    public static byte[] Palette()
    {
        var table = new byte[256 * 3];
        for (int r = 0; r < LevelsR; r++)
            for (int g = 0; g < LevelsG; g++)
                for (int b = 0; b < LevelsB; b++)
                {
                    int i = Index(r, g, b) * 3;
                    table[i] = Level(r, LevelsR); table[i + 1] = Level(g, LevelsG); table[i + 2] = Level(b, LevelsB);
                }
        return table;
    }

    /// <summary>Palette indices of an RGB frame (H×W×3 bytes), ordered-dithered.</summary>
    public static byte[] Quantize(ReadOnlySpan<byte> rgb, int width, int height)
    {
        var indices = new byte[width * height];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int i = y * width + x;
                double t = (Bayer[y & 7, x & 7] + 0.5) / 64;   // threshold in (0, 1), mean 1/2
                indices[i] = (byte)Index(Dither(rgb[i * 3], LevelsR, t), Dither(rgb[i * 3 + 1], LevelsG, t), Dither(rgb[i * 3 + 2], LevelsB, t));
            }
        return indices;
    }

    /// <summary>Appends a frame (H×W×3 RGB bytes) shown for <paramref name="delayCentiseconds"/>.</summary>
    public void AddFrame(ReadOnlySpan<byte> rgb, int delayCentiseconds)
    {
        if (finished) throw new InvalidOperationException("GIF already finished");
        if (rgb.Length != Width * Height * 3) throw new ArgumentException($"frame has {rgb.Length} bytes, expected {Width * Height * 3}");
        Span<byte> control = [0x21, 0xF9, 4, 0, 0, 0, 0, 0];                  // graphic control: no transparency, disposal unspecified
        BinaryPrimitives.WriteUInt16LittleEndian(control[4..], (ushort)Math.Clamp(delayCentiseconds, 0, 65535));
        output.Write(control);
        Span<byte> descriptor = stackalloc byte[10];
        descriptor[0] = 0x2C;
        BinaryPrimitives.WriteUInt16LittleEndian(descriptor[5..], (ushort)Width);
        BinaryPrimitives.WriteUInt16LittleEndian(descriptor[7..], (ushort)Height);
        output.Write(descriptor);                                               // at (0, 0), no local table, not interlaced
        output.WriteByte(8);                                                    // LZW minimum code size
        Lzw.Encode(Quantize(rgb, Width, Height), output);
    }

    public void Finish()
    {
        if (finished) return;
        output.WriteByte(0x3B);
        finished = true;
    }

    static int Index(int r, int g, int b) => (r * LevelsG + g) * LevelsB + b;
    static byte Level(int i, int levels) => (byte)Math.Round(i * 255.0 / (levels - 1));
    static int Dither(byte value, int levels, double threshold) => Math.Min(levels - 1, (int)(value * (levels - 1) / 255.0 + threshold));

    static int[,] BuildBayer()
    {
        var m = new int[8, 8];
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 8; x++)
            {
                int v = 0, xc = x ^ y, yc = y;
                for (int bit = 0; bit < 3; bit++) v = (v << 2) | (((xc >> bit) & 1) << 1) | ((yc >> bit) & 1);
                m[y, x] = v;
            }
        return m;
    }

    /// <summary>GIF's LZW: clear code 256, end code 257, codes grow from 9 to 12 bits, table reset when full.</summary>
    internal static class Lzw
    {
        const int Clear = 256, End = 257, MaxCode = 4095;

        public static void Encode(ReadOnlySpan<byte> indices, Stream output)
        {
            var bits = new BitPacker(output);
            var table = new Dictionary<int, int>();
            int size = 9, next = End + 1;
            bits.Write(Clear, size);
            if (indices.Length == 0) { bits.Write(End, size); bits.Finish(); return; }
            int prefix = indices[0];
            for (int i = 1; i < indices.Length; i++)
            {
                int key = (prefix << 8) | indices[i];
                if (table.TryGetValue(key, out int code)) { prefix = code; continue; }
                Emit(prefix);
                if (next >= MaxCode)
                {
                    bits.Write(Clear, size);
                    table.Clear();
                    (size, next) = (9, End + 1);
                }
                else table[key] = next++;
                prefix = indices[i];
            }
            Emit(prefix);
            bits.Write(End, size);
            bits.Finish();

            // The decoder adds its table entry one code later than we do, so the width grows once `next` (before this
            // code's own entry) reaches 2^size.
            void Emit(int c)
            {
                bits.Write(c, size);
                if (next >= (1 << size) && size < 12) size++;
            }
        }

        /// <summary>Packs codes LSB-first into data sub-blocks of at most 255 bytes, then the zero-length terminator.</summary>
        sealed class BitPacker(Stream output)
        {
            readonly byte[] block = new byte[256];
            int count, pending, pendingBits;

            public void Write(int code, int size)
            {
                pending |= code << pendingBits;
                pendingBits += size;
                while (pendingBits >= 8) { Put((byte)pending); pending >>= 8; pendingBits -= 8; }
            }

            public void Finish()
            {
                if (pendingBits > 0) Put((byte)pending);
                FlushBlock();
                output.WriteByte(0);
            }

            void Put(byte b)
            {
                block[1 + count++] = b;
                if (count == 255) FlushBlock();
            }

            void FlushBlock()
            {
                if (count == 0) return;
                block[0] = (byte)count;
                output.Write(block, 0, count + 1);
                count = 0;
            }
        }
    }
}
