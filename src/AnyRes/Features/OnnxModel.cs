using Google.Protobuf;
using AnyRes.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Features;

/// <summary>
/// The subset of an ONNX model (onnx.proto: ModelProto → GraphProto → NodeProto/TensorProto/AttributeProto) needed to
/// take the weights of a plain convolutional network: nodes in graph order with their attributes, and the initializers as
/// CPU float32 tensors. Read with Google.Protobuf's CodedInputStream; unknown fields are skipped.
/// </summary>
public sealed class OnnxModel : IDisposable
{
    public sealed record Node(string OpType, string Name, string[] Inputs, string[] Outputs, IReadOnlyDictionary<string, Attribute> Attributes)
    {
        public long[] Ints(string name, long[] fallback) => Attributes.TryGetValue(name, out var a) ? a.Ints : fallback;
        public float Float(string name, float fallback) => Attributes.TryGetValue(name, out var a) ? a.F : fallback;
        public string String(string name, string fallback) => Attributes.TryGetValue(name, out var a) ? a.S : fallback;
    }

    public sealed record Attribute(string Name, float F, long I, string S, long[] Ints, Tensor? T);

    public required IReadOnlyList<Node> Nodes { get; init; }
    public required IReadOnlyDictionary<string, Tensor> Initializers { get; init; }
    public required IReadOnlyList<string> Inputs { get; init; }
    public required IReadOnlyList<string> Outputs { get; init; }

    // onnx.proto TensorProto.DataType
    const int Float = 1, Int64 = 7, Double = 11;

    public static OnnxModel Read(string path)
    {
        if (!File.Exists(path)) throw AnyResException.ForFile(path, "ONNX model not found");
        try
        {
            var input = new CodedInputStream(File.ReadAllBytes(path));
            OnnxModel? model = null;
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                if (WireFormat.GetTagFieldNumber(tag) == 7) model = ReadGraph(input.ReadBytes());   // ModelProto.graph
                else input.SkipLastField();
            }
            return model ?? throw AnyResException.ForFile(path, "not an ONNX model (no graph)");
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or FormatException) { throw AnyResException.ForFile(path, $"not an ONNX model ({e.Message})", e); }
    }

    static OnnxModel ReadGraph(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        var nodes = new List<Node>();
        var inits = new Dictionary<string, Tensor>();
        var inputs = new List<string>();
        var outputs = new List<string>();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: nodes.Add(ReadNode(input.ReadBytes())); break;
                case 5: { var (name, t) = ReadTensor(input.ReadBytes()); inits[name] = t; break; }
                case 11: inputs.Add(ReadValueInfoName(input.ReadBytes())); break;
                case 12: outputs.Add(ReadValueInfoName(input.ReadBytes())); break;
                default: input.SkipLastField(); break;
            }
        }
        return new OnnxModel { Nodes = nodes, Initializers = inits, Inputs = inputs, Outputs = outputs };
    }

    static string ReadValueInfoName(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        uint tag;
        string name = "";
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == 1) name = input.ReadString();
            else input.SkipLastField();
        }
        return name;
    }

    static Node ReadNode(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        var ins = new List<string>();
        var outs = new List<string>();
        var attrs = new Dictionary<string, Attribute>();
        string name = "", op = "";
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: ins.Add(input.ReadString()); break;
                case 2: outs.Add(input.ReadString()); break;
                case 3: name = input.ReadString(); break;
                case 4: op = input.ReadString(); break;
                case 5: { var a = ReadAttribute(input.ReadBytes()); attrs[a.Name] = a; break; }
                default: input.SkipLastField(); break;
            }
        }
        return new Node(op, name, ins.ToArray(), outs.ToArray(), attrs);
    }

    static Attribute ReadAttribute(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        string name = "", s = "";
        float f = 0;
        long i = 0;
        var ints = new List<long>();
        Tensor? t = null;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: name = input.ReadString(); break;
                case 2: f = input.ReadFloat(); break;
                case 3: i = input.ReadInt64(); break;
                case 4: s = input.ReadBytes().ToStringUtf8(); break;
                case 5: t = ReadTensor(input.ReadBytes()).tensor; break;
                case 8: ReadInt64s(input, tag, ints); break;
                default: input.SkipLastField(); break;
            }
        }
        return new Attribute(name, f, i, s, ints.ToArray(), t);
    }

    static void ReadInt64s(CodedInputStream input, uint tag, List<long> into)
    {
        if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
        {
            var packed = input.ReadBytes().CreateCodedInput();
            while (!packed.IsAtEnd) into.Add(packed.ReadInt64());
        }
        else into.Add(input.ReadInt64());
    }

    static (string name, Tensor tensor) ReadTensor(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        var dims = new List<long>();
        var floats = new List<float>();
        var int64s = new List<long>();
        var doubles = new List<double>();
        int dataType = 0;
        string name = "";
        ByteString? raw = null;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: ReadInt64s(input, tag, dims); break;
                case 2: dataType = input.ReadInt32(); break;
                case 4:
                    if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                    {
                        var packed = input.ReadBytes().CreateCodedInput();
                        while (!packed.IsAtEnd) floats.Add(packed.ReadFloat());
                    }
                    else floats.Add(input.ReadFloat());
                    break;
                case 7: ReadInt64s(input, tag, int64s); break;
                case 8: name = input.ReadString(); break;
                case 9: raw = input.ReadBytes(); break;
                case 10:
                    if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                    {
                        var packed = input.ReadBytes().CreateCodedInput();
                        while (!packed.IsAtEnd) doubles.Add(packed.ReadDouble());
                    }
                    else doubles.Add(input.ReadDouble());
                    break;
                default: input.SkipLastField(); break;
            }
        }
        var shape = dims.ToArray();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        Tensor t = dataType switch
        {
            Float when raw is not null => FromRaw(raw, shape, ScalarType.Float32, 4 * count),
            Float => torch.tensor(floats.ToArray()).reshape(shape),
            Int64 when raw is not null => FromRaw(raw, shape, ScalarType.Int64, 8 * count),
            Int64 => torch.tensor(int64s.ToArray()).reshape(shape),
            Double when raw is not null => FromRaw(raw, shape, ScalarType.Float64, 8 * count).to(float32),
            Double => torch.tensor(doubles.ToArray()).reshape(shape).to(float32),
            _ => throw new FormatException($"tensor '{name}' has unsupported data type {dataType}"),
        };
        if (t.numel() != count) throw new FormatException($"tensor '{name}' holds {t.numel()} values for shape [{string.Join(",", shape)}]");
        return (name, t);
    }

    static Tensor FromRaw(ByteString raw, long[] shape, ScalarType type, long byteCount)
    {
        if (raw.Length != byteCount) throw new FormatException($"raw data of {raw.Length} bytes for {byteCount} expected");
        var t = torch.empty(shape, type);
        if (byteCount > 0) t.bytes = raw.ToByteArray();
        return t;
    }

    public void Dispose()
    {
        foreach (var t in Initializers.Values) t.Dispose();
        foreach (var n in Nodes) foreach (var a in n.Attributes.Values) a.T?.Dispose();
    }
}
