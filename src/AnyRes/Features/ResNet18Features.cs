using AnyRes.Ops;
using AnyRes.Core;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AnyRes.Features;

/// <summary>
/// Convolution with ONNX padding (begin/end may differ, as CNTK exports them) and the eval-mode BatchNorm folded in.
/// Folding happens once in float64: w' = w·γ/√(var+ε), b' = β − mean·γ/√(var+ε).
/// </summary>
public sealed class FoldedConv : nn.Module<Tensor, Tensor>
{
    readonly Parameter weight, bias;
    readonly long stride, padBegin, padEnd;
    readonly ChannelsLastInference channelsLast;

    public FoldedConv(string name, Tensor w, Tensor gamma, Tensor beta, Tensor mean, Tensor var, double eps, long stride, long padBegin, long padEnd) : base(name)
    {
        using var scope = NewDisposeScope();
        var s = gamma.to(float64) / (var.to(float64) + eps).sqrt();
        weight = new Parameter((w.to(float64) * s.view(-1, 1, 1, 1)).to(float32).DetachFromDisposeScope(), requires_grad: false);
        bias = new Parameter((beta.to(float64) - mean.to(float64) * s).to(float32).DetachFromDisposeScope(), requires_grad: false);
        (this.stride, this.padBegin, this.padEnd) = (stride, padBegin, padEnd);
        channelsLast = new ChannelsLastInference(stride, padBegin, padEnd);
        RegisterComponents();
    }

    public long OutChannels => weight.shape[0];

    public override Tensor forward(Tensor x) => GemmConv2d.Apply(OnnxPad.Apply(x, weight.shape[2], stride, padBegin, padEnd, 0, out var p), weight, bias, (int)stride, (int)p, (int)p);

    /// <summary>Inference on channels-last [N, H, W, C]: conv + bias (+ residual) (+ ReLU), the path chosen in Ops.</summary>
    public Tensor ForwardChannelsLast(Tensor x, Tensor? residual = null, bool relu = false) => channelsLast.Apply(x, weight, bias, residual, relu);

    protected override void Dispose(bool disposing)
    {
        if (disposing) channelsLast.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>ONNX begin/end padding expressed as torch's symmetric padding whenever that yields the same windows.</summary>
static class OnnxPad
{
    /// <summary>Returns the input (maybe explicitly padded) and the symmetric padding the op should still apply.</summary>
    public static Tensor Apply(Tensor x, long kernel, long stride, long begin, long end, double value, out long symmetric)
    {
        long h = x.shape[2], w = x.shape[3];
        long Out(long n, long b, long e) => (n + b + e - kernel) / stride + 1;
        if (begin == end || (Out(h, begin, begin) == Out(h, begin, end) && Out(w, begin, begin) == Out(w, begin, end)))
        {
            // Same output count ⇒ the extra symmetric padding at the end is never read.
            symmetric = begin;
            return x;
        }
        symmetric = 0;
        return F.pad(x, [begin, end, begin, end], PaddingModes.Constant, value);
    }
}

/// <summary>A basic residual block (two 3×3 convolutions, optional 1×1 projection shortcut), torchvision's layout.</summary>
public sealed class BasicBlock : nn.Module<Tensor, Tensor>
{
    readonly FoldedConv conv1, conv2;
    readonly FoldedConv? downsample;

    public BasicBlock(string name, FoldedConv conv1, FoldedConv conv2, FoldedConv? downsample) : base(name)
    {
        (this.conv1, this.conv2, this.downsample) = (conv1, conv2, downsample);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var h = conv1.forward(x).relu_();
        using var shortcut = downsample?.forward(x);
        var y = conv2.forward(h);
        return y.add_(shortcut ?? x).relu_();
    }

    /// <summary>The same block on channels-last [N, H, W, C] activations, without autograd.</summary>
    public Tensor ForwardChannelsLast(Tensor x)
    {
        using var h = conv1.ForwardChannelsLast(x, relu: true);
        using var shortcut = downsample?.ForwardChannelsLast(x);
        return conv2.ForwardChannelsLast(h, residual: shortcut ?? x, relu: true);
    }
}

/// <summary>
/// The ImageNet ResNet18 of the NuGet package <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> 0.23.1 (CNTK-trained, blocks
/// 2-2-2-3 as shipped), rebuilt as a frozen TorchSharp module from its ONNX file. Input: BGR, 0..255 minus the mean (see
/// <see cref="Preprocess"/>). Output: the four stage activations; <see cref="Pool"/> gives the 512-d feature.
/// One implementation serves the perceptual distance of the teacher loss and the Fréchet-distance metrics.
/// </summary>
public sealed class ResNet18Features : nn.Module<Tensor, Tensor[]>
{
    readonly FoldedConv conv1;
    readonly long poolKernel, poolStride, poolBegin, poolEnd;
    readonly ModuleList<ModuleList<BasicBlock>> layers;
    /// <summary>The preprocessing graph's per-pixel mean image [1,3,224,224], BGR, 0..255.</summary>
    readonly Tensor mean_image;
    /// <summary>Per-channel mean of the mean image (float64 mean rounded to float32), for sizes other than 224.</summary>
    readonly Tensor channel_mean;

    public const int Size = 224;
    public const string ModelFile = "ResNet18.onnx", PreprocessFile = "ResNetPreprocess.onnx";

    public ResNet18Features(OnnxModel net, OnnxModel prep) : base("resnet18")
    {
        if (!prep.Initializers.TryGetValue("MeanImage", out var mean) || !mean.shape.SequenceEqual(new long[] { 1, 3, Size, Size }))
            throw new AnyResException("ResNet18 preprocessing graph: no MeanImage [1,3,224,224]");
        // Long-lived buffers: never owned by a caller's dispose scope.
        mean_image = mean.clone().DetachFromDisposeScope();
        using (var m64 = mean.to(float64)) using (var m = m64.mean([0, 2, 3], keepdim: true)) channel_mean = m.to(float32).DetachFromDisposeScope();

        var graph = new Graph(net);
        var x = net.Inputs.Single(i => !net.Initializers.ContainsKey(i));
        (conv1, x) = graph.ConvBn("conv1", x);
        x = graph.Expect(x, "Relu").Outputs[0];
        var pool = graph.Expect(x, "MaxPool");
        var pads = pool.Ints("pads", [0, 0, 0, 0]);
        (poolKernel, poolStride, poolBegin, poolEnd) = (pool.Ints("kernel_shape", [])[0], pool.Ints("strides", [1, 1])[0], pads[0], pads[2]);
        x = pool.Outputs[0];

        var stages = new List<List<BasicBlock>>();
        while (true)
        {
            var consumers = graph.Consumers(x);
            if (consumers.Count == 1 && consumers[0].OpType == "AveragePool") break;
            var convs = consumers.Where(n => n.OpType == "Conv").ToList();
            // Identity blocks: the block input feeds one Conv and the Add; projected blocks: two Convs.
            if (consumers.Any(n => n.OpType is not ("Conv" or "Add")) || convs.Count is < 1 or > 2) throw new AnyResException($"ResNet18 graph: unexpected consumers of {x}");
            bool projected = convs.Count == 2;
            if (projected || stages.Count == 0) stages.Add([]);
            string prefix = $"layer{stages.Count}.{stages[^1].Count}";
            // The main path's convolution is followed by BN → ReLU; the shortcut's BN feeds the Add directly.
            var main = convs.Single(c => graph.Consumers(graph.Consumers(c.Outputs[0])[0].Outputs[0])[0].OpType == "Relu");
            FoldedConv? down = null;
            string? shortcut = x;
            if (projected) (down, shortcut) = graph.ConvBn(prefix + ".downsample", x, convs.Single(c => c != main));
            var (c1, h) = graph.ConvBn(prefix + ".conv1", x, main);
            h = graph.Expect(h, "Relu").Outputs[0];
            var (c2, y) = graph.ConvBn(prefix + ".conv2", h);
            var add = graph.Expect(y, "Add");
            if (!add.Inputs.Contains(shortcut)) throw new AnyResException($"ResNet18 graph: block {prefix} does not add its shortcut");
            x = graph.Expect(add.Outputs[0], "Relu").Outputs[0];
            stages[^1].Add(new BasicBlock(prefix, c1, c2, down));
        }
        if (stages.Count != 4) throw new AnyResException($"ResNet18 graph: {stages.Count} stages, expected 4");
        layers = new ModuleList<ModuleList<BasicBlock>>(stages.Select(s => new ModuleList<BasicBlock>(s.ToArray())).ToArray());
        RegisterComponents();
        foreach (var p in parameters()) p.requires_grad = false;
        eval();
    }

    /// <summary>Blocks per stage as read from the ONNX graph.</summary>
    public int[] Blocks => layers.Select(l => l.Count).ToArray();

    /// <summary>
    /// Planar RGB 0..255 → the network's input: channels reversed to BGR, minus the mean image (224×224 only, as the
    /// shipped preprocessing graph) or minus its per-channel mean (<paramref name="channelMean"/>; any size).
    /// </summary>
    public Tensor Preprocess(Tensor rgb255, bool channelMean = false)
    {
        if (!channelMean && (rgb255.shape[2] != Size || rgb255.shape[3] != Size))
            throw new ArgumentException($"the mean image needs {Size}×{Size} inputs; got {rgb255.shape[2]}×{rgb255.shape[3]}");
        return rgb255.flip(1) - (channelMean ? channel_mean : mean_image);
    }

    /// <summary>
    /// The four stage outputs (after the last ReLU of each stage) for a preprocessed input. Without autograd on the CPU
    /// the network runs channels last (the stages are then NCHW views of channels-last data; same values).
    /// </summary>
    public override Tensor[] forward(Tensor x) =>
        x.device_type == DeviceType.CPU && !is_grad_enabled() ? ForwardChannelsLast(x) : ForwardPlanar(x);

    Tensor[] ForwardChannelsLast(Tensor x)
    {
        using (var input = x.permute(0, 2, 3, 1).contiguous())
        using (var r = conv1.ForwardChannelsLast(input, relu: true))
        using (var planar = r.permute(0, 3, 1, 2))
        using (var pooled = MaxPool(planar))
            x = pooled.permute(0, 2, 3, 1).contiguous();
        var stages = Stages(x, (block, h) => block.ForwardChannelsLast(h));
        // Views keep the storage; the channels-last handles go.
        var planarStages = stages.Select(t => t.permute(0, 3, 1, 2)).ToArray();
        foreach (var t in stages) t.Dispose();
        return planarStages;
    }

    Tensor[] ForwardPlanar(Tensor x)
    {
        using (var r = conv1.forward(x).relu_())
            x = MaxPool(r);
        return Stages(x, (block, h) => block.forward(h));
    }

    /// <summary>The stem's max pool with the ONNX padding (−∞ where the windows reach past the image).</summary>
    Tensor MaxPool(Tensor x)
    {
        var p = OnnxPad.Apply(x, poolKernel, poolStride, poolBegin, poolEnd, double.NegativeInfinity, out var sym);
        try { return F.max_pool2d(p, kernel_size: poolKernel, stride: poolStride, padding: sym); }
        finally { if (!ReferenceEquals(p, x)) p.Dispose(); }
    }

    /// <summary>The residual stages from the pooled stem output (consumed); each block's input is freed unless it is a stage output.</summary>
    Tensor[] Stages(Tensor x, Func<BasicBlock, Tensor, Tensor> runBlock)
    {
        var stages = new Tensor[4];
        for (int s = 0; s < 4; s++)
        {
            foreach (var block in layers[s])
            {
                var y = runBlock(block, x);
                if (s == 0 || x.Handle != stages[s - 1].Handle) x.Dispose();
                x = y;
            }
            stages[s] = x;
        }
        return stages;
    }

    /// <summary>The 512-d feature: the global average of stage 4 (the ONNX AveragePool 7×7 at 224×224).</summary>
    public static Tensor Pool(Tensor stage4) => stage4.mean([2, 3]);

    /// <summary>Pooled features [B,512] of planar RGB 0..255 images; the mean image at 224×224, else the channel mean.</summary>
    public Tensor Features(Tensor rgb255, bool channelMean = false)
    {
        using var scope = NewDisposeScope();
        var stages = forward(Preprocess(rgb255, channelMean || rgb255.shape[2] != Size || rgb255.shape[3] != Size));
        return Pool(stages[3]).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Loads the network from the ONNX files copied next to the program (<c>models/</c>), or from the folder named by
    /// ANYRES_RESNET18_DIR, or from the restored NuGet package. Never downloads.
    /// </summary>
    public static ResNet18Features LoadDefault(Device device)
    {
        var dir = FindModelFolder();
        using var net = OnnxModel.Read(Path.Combine(dir, ModelFile));
        using var prep = OnnxModel.Read(Path.Combine(dir, PreprocessFile));
        var model = new ResNet18Features(net, prep);
        model.to(device);
        return model;
    }

    static string FindModelFolder()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("ANYRES_RESNET18_DIR") is { Length: > 0 } env) candidates.Add(env);
        candidates.Add(Path.Combine(AppContext.BaseDirectory, "models"));
        var nuget = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } np ? np
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var package = Path.Combine(nuget, "microsoft.ml.dnnimagefeaturizer.resnet18", "0.23.1", "tools", "DnnImageModels");
        candidates.Add(Path.Combine(package, "ResNet18Onnx"));
        foreach (var dir in candidates)
        {
            if (File.Exists(Path.Combine(dir, ModelFile)) && File.Exists(Path.Combine(dir, PreprocessFile))) return dir;
            // The package keeps the two graphs in sibling folders.
            if (File.Exists(Path.Combine(dir, ModelFile)) && File.Exists(Path.Combine(dir, "..", "ResNetPrepOnnx", PreprocessFile)))
                return MergeFolders(dir, Path.Combine(dir, "..", "ResNetPrepOnnx"));
        }
        throw new AnyResException($"ResNet18 feature network not found (looked in {string.Join(", ", candidates)}); build the project so that "
            + "NuGet restores Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1, or set ANYRES_RESNET18_DIR to a folder with ResNet18.onnx and ResNetPreprocess.onnx");
    }

    static string MergeFolders(string netDir, string prepDir)
    {
        var dir = Path.Combine(Path.GetTempPath(), "anyres-resnet18");
        Directory.CreateDirectory(dir);
        foreach (var (src, name) in new[] { (Path.Combine(netDir, ModelFile), ModelFile), (Path.Combine(prepDir, PreprocessFile), PreprocessFile) })
        {
            var dst = Path.Combine(dir, name);
            if (!File.Exists(dst) || new FileInfo(dst).Length != new FileInfo(src).Length) File.Copy(src, dst, overwrite: true);
        }
        return dir;
    }

    /// <summary>Follows tensors through the graph: who consumes a value, and the conv → BN pairs.</summary>
    sealed class Graph(OnnxModel model)
    {
        readonly ILookup<string, OnnxModel.Node> consumers = model.Nodes.SelectMany(n => n.Inputs.Select(i => (i, n))).ToLookup(p => p.i, p => p.n);

        public List<OnnxModel.Node> Consumers(string value) => consumers[value].ToList();

        public OnnxModel.Node Expect(string value, string op)
        {
            var c = Consumers(value);
            if (c.Count != 1 || c[0].OpType != op) throw new AnyResException($"ResNet18 graph: expected {value} → {op}, found {string.Join(",", c.Select(n => n.OpType))}");
            return c[0];
        }

        public (FoldedConv conv, string output) ConvBn(string name, string input, OnnxModel.Node? conv = null)
        {
            conv ??= Expect(input, "Conv");
            var bn = Expect(conv.Outputs[0], "BatchNormalization");
            var pads = conv.Ints("pads", [0, 0, 0, 0]);
            var strides = conv.Ints("strides", [1, 1]);
            if (pads[0] != pads[1] || pads[2] != pads[3] || strides[0] != strides[1] || conv.Inputs.Length > 2 || conv.Attributes.TryGetValue("group", out var g) && g.I != 1)
                throw new AnyResException($"ResNet18 graph: unsupported convolution {conv.Name}");
            Tensor W(int i) => model.Initializers[(i == 0 ? conv : bn).Inputs[i == 0 ? 1 : i]];
            var folded = new FoldedConv(name, W(0), W(1), W(2), W(3), W(4), bn.Float("epsilon", 1e-5f), strides[0], pads[0], pads[2]);
            return (folded, bn.Outputs[0]);
        }
    }
}
