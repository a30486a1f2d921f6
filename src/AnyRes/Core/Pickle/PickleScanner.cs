using System.Buffers.Binary;
using System.Text;

namespace AnyRes.Core.Pickle;

/// <summary>
/// The allow-list gate in front of Razorvine.Pickle: walks one pickle's opcodes without building any object, following the
/// stack only far enough to know the module and name every GLOBAL / STACK_GLOBAL imports, and stops at the first global
/// that is not allowed — before the unpickler has constructed anything. Razorvine alone would turn an unknown global into a
/// ClassDict silently; a snapshot must name only what a snapshot needs. Opcodes a torch pickle never uses (INST, OBJ,
/// extension codes, out-of-band buffers) are refused too, so the walk and the unpickler cannot disagree on the stack.
/// </summary>
internal static class PickleScanner
{
    /// <summary>Strings longer than this are not tracked as values (a global's module or name is short).</summary>
    const int MaxTrackedString = 1024;

    static readonly object Other = new();
    static readonly object Mark = new();

    /// <summary>
    /// Checks the pickle starting at the stream's position and returns the position just after its STOP. Throws
    /// AnyResException naming <paramref name="name"/> for a refused global or opcode, a malformed stream or a truncated one.
    /// </summary>
    public static long Scan(Stream s, string name, IReadOnlySet<string> allowedGlobals, bool allowPersistentIds)
    {
        var stack = new List<object>();
        var memo = new Dictionary<long, object>();
        long length = s.Length;
        while (true)
        {
            long at = s.Position;
            int op = s.ReadByte();
            if (op < 0) throw Truncated(name, at);
            switch (op)
            {
                case 0x80: Read(s, 1, name); break;                                     // PROTO
                case 0x95: Read(s, 8, name); break;                                     // FRAME
                case '.': return s.Position;                                            // STOP
                case '(': stack.Add(Mark); break;                                       // MARK
                case 'N': case 0x88: case 0x89: stack.Add(Other); break;                // NONE, NEWTRUE, NEWFALSE
                case 'K': Read(s, 1, name); stack.Add(Other); break;                    // BININT1
                case 'M': Read(s, 2, name); stack.Add(Other); break;                    // BININT2
                case 'J': Read(s, 4, name); stack.Add(Other); break;                    // BININT
                case 'G': Read(s, 8, name); stack.Add(Other); break;                    // BINFLOAT
                case 'I': case 'L': case 'F': case 'S': ReadLine(s, name); stack.Add(Other); break; // INT, LONG, FLOAT, STRING
                case 0x8a: Skip(s, Read(s, 1, name)[0], name, length); stack.Add(Other); break;   // LONG1
                case 0x8b: Skip(s, Length4(s, name), name, length); stack.Add(Other); break;      // LONG4
                case 'U': case 'C': Skip(s, Read(s, 1, name)[0], name, length); stack.Add(Other); break;   // SHORT_BINSTRING, SHORT_BINBYTES
                case 'T': case 'B': Skip(s, Length4(s, name), name, length); stack.Add(Other); break;      // BINSTRING, BINBYTES
                case 0x8e: case 0x96: Skip(s, Length8(s, name), name, length); stack.Add(Other); break;    // BINBYTES8, BYTEARRAY8
                case 0x8c: stack.Add(Text(s, Read(s, 1, name)[0], name, length)); break;                   // SHORT_BINUNICODE
                case 'X': stack.Add(Text(s, Length4(s, name), name, length)); break;                       // BINUNICODE
                case 0x8d: stack.Add(Text(s, Length8(s, name), name, length)); break;                      // BINUNICODE8
                case 'V': stack.Add(ReadLine(s, name)); break;                                              // UNICODE (raw-unicode-escaped)
                case ']': case ')': case '}': case 0x8f: stack.Add(Other); break;       // EMPTY_LIST, EMPTY_TUPLE, EMPTY_DICT, EMPTY_SET
                case 't': case 'l': case 'd': case 0x91: PopMark(stack, name, at); stack.Add(Other); break; // TUPLE, LIST, DICT, FROZENSET
                case 'e': case 'u': case 0x90: case '1': PopMark(stack, name, at); break;   // APPENDS, SETITEMS, ADDITEMS, POP_MARK
                case 0x85: Pop(stack, 1, name, at); stack.Add(Other); break;            // TUPLE1
                case 0x86: Pop(stack, 2, name, at); stack.Add(Other); break;            // TUPLE2
                case 0x87: Pop(stack, 3, name, at); stack.Add(Other); break;            // TUPLE3
                case '0': case 'a': case 'b': Pop(stack, 1, name, at); break;           // POP, APPEND, BUILD
                case 's': Pop(stack, 2, name, at); break;                               // SETITEM
                case '2': stack.Add(Top(stack, name, at)); break;                       // DUP
                case 'R': case 0x81: Pop(stack, 2, name, at); stack.Add(Other); break;  // REDUCE, NEWOBJ
                case 0x92: Pop(stack, 3, name, at); stack.Add(Other); break;            // NEWOBJ_EX
                case 'g': stack.Add(Get(memo, MemoIndex(ReadLine(s, name), name, at), name, at)); break;                    // GET
                case 'h': stack.Add(Get(memo, Read(s, 1, name)[0], name, at)); break;                                 // BINGET
                case 'j': stack.Add(Get(memo, BinaryPrimitives.ReadUInt32LittleEndian(Read(s, 4, name)), name, at)); break; // LONG_BINGET
                case 'p': memo[MemoIndex(ReadLine(s, name), name, at)] = Top(stack, name, at); break;                      // PUT
                case 'q': memo[Read(s, 1, name)[0]] = Top(stack, name, at); break;                                    // BINPUT
                case 'r': memo[BinaryPrimitives.ReadUInt32LittleEndian(Read(s, 4, name))] = Top(stack, name, at); break; // LONG_BINPUT
                case 0x94: memo[memo.Count] = Top(stack, name, at); break;              // MEMOIZE
                case 'c':                                                               // GLOBAL
                    Check(ReadLine(s, name), ReadLine(s, name), allowedGlobals, name);
                    stack.Add(Other);
                    break;
                case 0x93:                                                              // STACK_GLOBAL
                {
                    var global = Pop(stack, 1, name, at)[0];   // the name is on top, the module below it
                    var module = Pop(stack, 1, name, at)[0];
                    if (global is not string g || module is not string m)
                        throw AnyResException.ForFile(name, $"refused: a global at byte {at} whose name is not a literal string (nothing was run)");
                    Check(m, g, allowedGlobals, name);
                    stack.Add(Other);
                    break;
                }
                case 'P': case 'Q':                                                     // PERSID, BINPERSID
                    if (!allowPersistentIds) throw AnyResException.ForFile(name, $"refused: persistent id at byte {at} (a snapshot's outer pickle has none)");
                    if (op == 'P') ReadLine(s, name); else Pop(stack, 1, name, at);
                    stack.Add(Other);
                    break;
                default:
                    throw AnyResException.ForFile(name, $"refused: pickle opcode 0x{op:x2} at byte {at} is not one a network snapshot uses");
            }
        }
    }

    /// <summary>The decimal memo index of GET and PUT (protocol 0's text opcodes).</summary>
    static long MemoIndex(string text, string name, long at) =>
        long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var i) ? i
            : throw AnyResException.ForFile(name, $"malformed pickle: memo index at byte {at} is not a number");

    static void Check(string module, string global, IReadOnlySet<string> allowed, string name)
    {
        var full = module + "." + global;
        if (!allowed.Contains(full)) throw AnyResException.ForFile(name, $"refused: the pickle imports {full}, which is not on the network-snapshot allow-list (nothing was run)");
    }

    static AnyResException Truncated(string name, long at) => AnyResException.ForFile(name, $"truncated or not a pickle: the stream ends at byte {at} before its STOP opcode");

    static byte[] Read(Stream s, int n, string name)
    {
        var b = new byte[n];
        long at = s.Position;
        if (s.ReadAtLeast(b, n, throwOnEndOfStream: false) < n) throw Truncated(name, at);
        return b;
    }

    static long Length4(Stream s, string name) => BinaryPrimitives.ReadUInt32LittleEndian(Read(s, 4, name));

    static long Length8(Stream s, string name)
    {
        long n = BinaryPrimitives.ReadInt64LittleEndian(Read(s, 8, name));
        return n < 0 ? throw AnyResException.ForFile(name, "malformed pickle: negative length") : n;
    }

    /// <summary>Skips a payload; a length past the end of the stream is a truncated file, found before anything is allocated.</summary>
    static void Skip(Stream s, long n, string name, long length)
    {
        if (s.Position + n > length) throw Truncated(name, length);
        s.Seek(n, SeekOrigin.Current);
    }

    static object Text(Stream s, long n, string name, long length)
    {
        if (n > MaxTrackedString) { Skip(s, n, name, length); return Other; }
        return Encoding.UTF8.GetString(Read(s, (int)n, name));
    }

    static string ReadLine(Stream s, string name)
    {
        var bytes = new List<byte>();
        long at = s.Position;
        for (int b; (b = s.ReadByte()) != '\n';)
        {
            if (b < 0) throw Truncated(name, at);
            if (bytes.Count > MaxTrackedString) throw AnyResException.ForFile(name, $"malformed pickle: an over-long text argument at byte {at}");
            bytes.Add((byte)b);
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    static object Top(List<object> stack, string name, long at) =>
        stack.Count > 0 && stack[^1] != Mark ? stack[^1] : throw Malformed(name, at);

    static object[] Pop(List<object> stack, int n, string name, long at)
    {
        if (stack.Count < n) throw Malformed(name, at);
        var items = stack.GetRange(stack.Count - n, n).ToArray();
        if (items.Contains(Mark)) throw Malformed(name, at);
        stack.RemoveRange(stack.Count - n, n);
        Array.Reverse(items);   // items[0] = the former top
        return items;
    }

    static void PopMark(List<object> stack, string name, long at)
    {
        int i = stack.LastIndexOf(Mark);
        if (i < 0) throw Malformed(name, at);
        stack.RemoveRange(i, stack.Count - i);
    }

    static object Get(Dictionary<long, object> memo, long key, string name, long at) =>
        memo.TryGetValue(key, out var v) ? v : throw Malformed(name, at);

    static AnyResException Malformed(string name, long at) => AnyResException.ForFile(name, $"malformed pickle: inconsistent stack at byte {at}");
}
