using System.Text.Json.Nodes;
using AnyRes.Core;
using AnyRes.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Networks;

/// <summary>
/// Options of the StyleGAN2 ResNet discriminator (spec 6.1, 13.8); defaults are the reference's (train.py for the SG3
/// configs). Runs in float32: the reference's num_fp16_res has no counterpart (it forces FP32 off CUDA anyway).
/// </summary>
public sealed record DiscriminatorOptions
{
    /// <summary>Class label dimensionality, 0 = unconditional (the anyres runs).</summary>
    public int CDim { get; init; } = 0;
    /// <summary>Input size p: the patch size in stage 2 (one D for LR images and HR patches).</summary>
    public int ImgResolution { get; init; } = 256;
    public int ImgChannels { get; init; } = 3;
    /// <summary>Channels at resolution r: min(ChannelBase / r, ChannelMax).</summary>
    public int ChannelBase { get; init; } = 32768;
    public int ChannelMax { get; init; } = 512;
    /// <summary>Clamp of conv outputs to ±ConvClamp (× layer gain); null = none (the reference's --fp32).</summary>
    public double? ConvClamp { get; init; } = 256;
    /// <summary>Dimensionality of the mapped label for the projection; null = channels at 4×4.</summary>
    public int? CmapDim { get; init; }
    /// <summary>Minibatch-stddev group size (--mbstd-group); null = whole batch.</summary>
    public int? MbstdGroupSize { get; init; } = 4;
    /// <summary>Minibatch-stddev feature maps, 0 = no mbstd layer.</summary>
    public int MbstdNumChannels { get; init; } = 1;
    /// <summary>Layers of the label mapping network (SG2 MappingNetwork default).</summary>
    public int MappingLayers { get; init; } = 8;
    /// <summary>Freeze-D (--freezed): the first N conv layers keep their weights as buffers, not parameters.</summary>
    public int FreezeLayers { get; init; } = 0;

    public static DiscriminatorOptions For(int resolution, int cDim = 0) => new() { ImgResolution = resolution, CDim = cDim };

    /// <summary>The small D paired with <see cref="GeneratorOptions.Tiny"/> for tests and benchmarks.</summary>
    public static DiscriminatorOptions Tiny(int resolution) => For(resolution) with { ChannelMax = 64 };

    /// <summary>Options from the reference's constructor keyword arguments (D_kwargs / a fixture's constructor JSON).</summary>
    public static DiscriminatorOptions FromReference(JsonObject kwargs)
    {
        // num_fp16_res only picks the reference's half-precision blocks (this port runs float32): accepted and ignored.
        ReferenceKwargs.Known(kwargs, "Discriminator", "c_dim", "img_resolution", "img_channels", "architecture", "channel_base", "channel_max",
            "num_fp16_res", "conv_clamp", "cmap_dim", "block_kwargs", "mapping_kwargs", "epilogue_kwargs");
        ReferenceKwargs.Known(kwargs["block_kwargs"] as JsonObject, "Discriminator block_kwargs", "freeze_layers");
        ReferenceKwargs.Known(kwargs["mapping_kwargs"] as JsonObject, "Discriminator mapping_kwargs", "num_layers");
        ReferenceKwargs.Known(kwargs["epilogue_kwargs"] as JsonObject, "Discriminator epilogue_kwargs", "mbstd_group_size", "mbstd_num_channels");
        var architecture = kwargs["architecture"]?.GetValue<string>() ?? "resnet";
        if (architecture != "resnet") throw new AnyResException($"discriminator architecture '{architecture}' is not supported (only 'resnet', the one anyres uses)");
        var block = kwargs["block_kwargs"]?.AsObject();
        var epilogue = kwargs["epilogue_kwargs"]?.AsObject();
        var mapping = kwargs["mapping_kwargs"]?.AsObject();
        var d = new DiscriminatorOptions();
        return d with
        {
            CDim = kwargs["c_dim"]!.GetValue<int>(),
            ImgResolution = kwargs["img_resolution"]!.GetValue<int>(),
            ImgChannels = kwargs["img_channels"]!.GetValue<int>(),
            ChannelBase = kwargs["channel_base"]?.GetValue<int>() ?? d.ChannelBase,
            ChannelMax = kwargs["channel_max"]?.GetValue<int>() ?? d.ChannelMax,
            ConvClamp = kwargs.ContainsKey("conv_clamp") ? kwargs["conv_clamp"]?.GetValue<double>() : d.ConvClamp,
            CmapDim = kwargs["cmap_dim"]?.GetValue<int>(),
            MbstdGroupSize = epilogue is not null && epilogue.ContainsKey("mbstd_group_size") ? epilogue["mbstd_group_size"]?.GetValue<int>() : d.MbstdGroupSize,
            MbstdNumChannels = epilogue?["mbstd_num_channels"]?.GetValue<int>() ?? d.MbstdNumChannels,
            MappingLayers = mapping?["num_layers"]?.GetValue<int>() ?? d.MappingLayers,
            FreezeLayers = block?["freeze_layers"]?.GetValue<int>() ?? d.FreezeLayers,
        };
    }

    public int Channels(int resolution) => Math.Min(ChannelBase / resolution, ChannelMax);

    /// <summary>Block resolutions R, R/2, ..., 8; the epilogue works at 4×4.</summary>
    public IEnumerable<int> BlockResolutions()
    {
        for (int res = ImgResolution; res >= 8; res /= 2) yield return res;
    }
}

/// <summary>
/// StyleGAN2 ResNet discriminator: blocks b{R} ... b8 (each halves the size), the 4×4 epilogue b4 and, for class labels,
/// a label mapping whose output is projected onto the epilogue's output. Logits [B, 1].
/// Based on: NVlabs/stylegan3 training/networks_stylegan2.py (Discriminator).
/// </summary>
public sealed class Discriminator : nn.Module<Tensor, Tensor?, Tensor>
{
    public DiscriminatorOptions Options { get; }
    readonly List<DiscriminatorBlock> blocks = new();
    readonly DiscriminatorMapping? mapping;
    readonly DiscriminatorEpilogue b4;

    public Discriminator(DiscriminatorOptions o) : base(nameof(Discriminator))
    {
        if (o.ImgResolution < 8 || (o.ImgResolution & (o.ImgResolution - 1)) != 0)
            throw new ArgumentException($"img_resolution must be a power of two >= 8, got {o.ImgResolution}");
        Options = o;
        int cmapDim = o.CDim == 0 ? 0 : o.CmapDim ?? o.Channels(4);
        int layerIdx = 0;
        foreach (var res in o.BlockResolutions())
        {
            var block = new DiscriminatorBlock(res < o.ImgResolution ? o.Channels(res) : 0, o.Channels(res), o.Channels(res / 2), res,
                o.ImgChannels, layerIdx, o.ConvClamp, o.FreezeLayers);
            layerIdx += block.NumLayers;
            blocks.Add(block);
            register_module($"b{res}", block);
        }
        if (o.CDim > 0)
        {
            mapping = new DiscriminatorMapping(o.CDim, cmapDim, o.MappingLayers);
            register_module("mapping", mapping);
        }
        b4 = new DiscriminatorEpilogue(o.Channels(4), cmapDim, o.MbstdGroupSize, o.MbstdNumChannels, o.ConvClamp);
        register_module("b4", b4);
    }

    /// <param name="img">[B, img_channels, R, R]</param>
    /// <param name="c">[B, c_dim] class labels; null when c_dim = 0.</param>
    public override Tensor forward(Tensor img, Tensor? c)
    {
        Shapes.Assert(img, -1, Options.ImgChannels, Options.ImgResolution, Options.ImgResolution);
        var x = img.to(float32);
        foreach (var block in blocks) x = block.call(x);
        Tensor? cmap = null;
        if (mapping is not null)
        {
            if (c is null) throw new ArgumentException($"this discriminator is conditional (c_dim = {Options.CDim}) and needs labels");
            cmap = mapping.call(c);
        }
        return b4.call(x, cmap);
    }

    public override string ToString() => $"Discriminator(c_dim={Options.CDim}, img_resolution={Options.ImgResolution}, img_channels={Options.ImgChannels})";
}

/// <summary>
/// One ResNet block at resolution r: [fromrgb], conv0 (3×3), conv1 (3×3, down 2) plus a 1×1 down-2 skip, both branches
/// scaled by √0.5 so the sum keeps unit variance. The first block takes the image.
/// </summary>
public sealed class DiscriminatorBlock : nn.Module<Tensor, Tensor>
{
    public readonly int InChannels, Resolution, NumLayers;
    /// <summary>Unused by the ResNet architecture, kept because it is part of the reference's state dict.</summary>
    readonly Tensor resample_filter;
    readonly Conv2dLayer? fromrgb;
    readonly Conv2dLayer conv0, conv1, skip;

    /// <param name="inChannels">0 for the first block, which reads the image.</param>
    public DiscriminatorBlock(int inChannels, int tmpChannels, int outChannels, int resolution, int imgChannels, int firstLayerIdx,
        double? convClamp, int freezeLayers) : base(nameof(DiscriminatorBlock))
    {
        InChannels = inChannels;
        Resolution = resolution;
        int layers = 0;
        bool Trainable() => firstLayerIdx + layers++ >= freezeLayers;
        double branchGain = Math.Sqrt(0.5);
        resample_filter = Upfirdn2d.SetupFilter([1, 3, 3, 1]);
        register_buffer("resample_filter", resample_filter);
        if (inChannels == 0)
        {
            fromrgb = new Conv2dLayer(imgChannels, tmpChannels, 1, activation: "lrelu", convClamp: convClamp, trainable: Trainable());
            register_module("fromrgb", fromrgb);
        }
        conv0 = new Conv2dLayer(tmpChannels, tmpChannels, 3, activation: "lrelu", convClamp: convClamp, trainable: Trainable());
        conv1 = new Conv2dLayer(tmpChannels, outChannels, 3, activation: "lrelu", down: 2, gain: branchGain, convClamp: convClamp, trainable: Trainable());
        skip = new Conv2dLayer(tmpChannels, outChannels, 1, bias: false, down: 2, gain: branchGain, trainable: Trainable());
        register_module("conv0", conv0);
        register_module("conv1", conv1);
        register_module("skip", skip);
        NumLayers = layers;
    }

    /// <param name="x">[B, C, r, r] features, or the image for the first block.</param>
    public override Tensor forward(Tensor x)
    {
        if (fromrgb is not null) x = fromrgb.call(x);
        Shapes.Assert(x, -1, conv0.InChannels, Resolution, Resolution);
        var y = skip.call(x);
        return y + conv1.call(conv0.call(x));
    }

    public override string ToString() => $"DiscriminatorBlock(resolution={Resolution}, architecture=resnet)";
}

/// <summary>The 4×4 head: minibatch stddev, conv 3×3, fc, out; with labels, the projection (out · cmap)/√cmap_dim.</summary>
public sealed class DiscriminatorEpilogue : nn.Module<Tensor, Tensor?, Tensor>
{
    const int Resolution = 4;
    readonly int inChannels, cmapDim, mbstdNumChannels;
    readonly int? mbstdGroupSize;
    readonly Conv2dLayer conv;
    readonly FullyConnectedLayer fc, @out;

    public DiscriminatorEpilogue(int inChannels, int cmapDim, int? mbstdGroupSize, int mbstdNumChannels, double? convClamp) : base(nameof(DiscriminatorEpilogue))
    {
        this.inChannels = inChannels;
        this.cmapDim = cmapDim;
        this.mbstdGroupSize = mbstdGroupSize;
        this.mbstdNumChannels = mbstdNumChannels;
        conv = new Conv2dLayer(inChannels + mbstdNumChannels, inChannels, 3, activation: "lrelu", convClamp: convClamp);
        fc = new FullyConnectedLayer(inChannels * Resolution * Resolution, inChannels, activation: "lrelu");
        @out = new FullyConnectedLayer(inChannels, cmapDim == 0 ? 1 : cmapDim);
        register_module("conv", conv);
        register_module("fc", fc);
        register_module("out", @out);
    }

    public override Tensor forward(Tensor x, Tensor? cmap)
    {
        Shapes.Assert(x, -1, inChannels, Resolution, Resolution);
        if (mbstdNumChannels > 0) x = MinibatchStd.Apply(x, mbstdGroupSize, mbstdNumChannels);
        x = conv.call(x);
        x = fc.call(x.flatten(1));
        x = @out.call(x);
        if (cmapDim > 0)
        {
            Shapes.Assert(cmap!, -1, cmapDim);
            x = (x * cmap!).sum(1, keepdim: true) * (1 / Math.Sqrt(cmapDim));
        }
        return x;
    }

    public override string ToString() => $"DiscriminatorEpilogue(resolution={Resolution}, architecture=resnet)";
}

/// <summary>
/// StyleGAN2's MappingNetwork as the discriminator uses it: no z, a label embedding with 2nd-moment normalisation, then
/// lrelu layers with lr multiplier 0.01; no w_avg and no broadcast.
/// </summary>
public sealed class DiscriminatorMapping : nn.Module<Tensor, Tensor>
{
    const double LrMultiplier = 0.01;
    readonly int cDim;
    readonly FullyConnectedLayer embed;
    readonly List<FullyConnectedLayer> layers = new();

    public DiscriminatorMapping(int cDim, int cmapDim, int numLayers) : base(nameof(DiscriminatorMapping))
    {
        this.cDim = cDim;
        embed = new FullyConnectedLayer(cDim, cmapDim);
        register_module("embed", embed);
        for (int i = 0; i < numLayers; i++)
        {
            var layer = new FullyConnectedLayer(cmapDim, cmapDim, activation: "lrelu", lrMultiplier: LrMultiplier);
            layers.Add(layer);
            register_module($"fc{i}", layer);
        }
    }

    /// <param name="c">[B, c_dim]</param>
    public override Tensor forward(Tensor c)
    {
        Shapes.Assert(c, -1, cDim);
        var x = embed.call(c.to(float32));
        x = x * (x.square().mean(new long[] { 1 }, keepdim: true) + 1e-8).rsqrt();
        foreach (var layer in layers) x = layer.call(x);
        return x;
    }
}
