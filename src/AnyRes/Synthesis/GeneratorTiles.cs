using AnyRes.Core;
using AnyRes.Data;
using AnyRes.Networks;
using TorchSharp;

namespace AnyRes.Synthesis;

/// <summary>
/// A trained generator as a tile source: stage-1 models and official StyleGAN3 models render through the plain synthesis
/// network, stage-2 models through their scale branch (the Generator derives the zoom from each tile's transform, spec §8.1).
/// A conditional network renders one class, given here because the scale branch needs the label too (the reference passes
/// none and crashes, spec §11 issue #3).
/// </summary>
public sealed class GeneratorTiles : ITileSynthesizer
{
    readonly torch.Tensor? c;   // one-hot [1 or B, CDim], or null for unconditional networks (and per-call classes)

    public Generator G { get; }
    public int TileSize => G.ImgResolution;
    public int Channels => G.Options.ImgChannels;
    public torch.Device Device { get; }

    /// <summary>The class rendered by a conditional network (null when unconditional or given per call).</summary>
    public int? ClassIndex { get; }
    /// <summary>The checkpoint's class names in index order (saved by conditional training), or null.</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <param name="classPerCall">A conditional network without a class of its own: each call's rows get theirs through
    /// <see cref="WithClasses"/> (metrics per class and over all classes).</param>
    public GeneratorTiles(Generator g, int? classIndex = null, bool classPerCall = false)
    {
        G = g;
        G.eval();
        Device = G.parameters().First().device;
        if (G.CDim > 0)
        {
            if (classIndex is int k)
            {
                if (k < 0 || k >= G.CDim) throw new AnyResException($"--class {k} is out of range: the network has classes 0..{G.CDim - 1}");
                c = torch.nn.functional.one_hot(torch.tensor(new long[] { k }, device: Device), G.CDim).to(torch.float32).DetachFromDisposeScope();
                ClassIndex = k;
            }
            else if (!classPerCall) throw new AnyResException($"the network is conditional on {G.CDim} classes: pass --class 0..{G.CDim - 1}");
        }
        else if (classIndex is not null) throw new AnyResException("--class given but the network is unconditional");
    }

    GeneratorTiles(GeneratorTiles of, torch.Tensor c) => (G, Device, ClassNames, this.c) = (of.G, of.Device, of.ClassNames, c);

    /// <summary>The same network rendering row i of every call as class <paramref name="classes"/>[i] (indices [B], or [1] for all rows).</summary>
    public GeneratorTiles WithClasses(torch.Tensor classes)
    {
        if (G.CDim == 0) throw new AnyResException("classes given but the network is unconditional");
        return new(this, torch.nn.functional.one_hot(classes.to(torch.int64).to(Device), G.CDim).to(torch.float32));
    }

    /// <summary>
    /// Loads the generator to render from a checkpoint (any path or name <see cref="NetworkCheckpoint.Load"/> takes): G_ema when
    /// present (the one to sample from), else G. <paramref name="className"/> is a class name of the checkpoint's class table
    /// (saved by conditional training) or a class index.
    /// </summary>
    public static GeneratorTiles Load(string path, torch.Device device, string? className = null, bool classPerCall = false)
    {
        var networks = NetworkCheckpoint.Load(path, device);
        var g = networks.G_ema ?? networks.G ?? throw AnyResException.ForFile(path, "holds no generator (G or G_ema)");
        var names = networks.Metadata.TryGetValue(ClassLabels.MetadataKey, out var json) ? ClassLabels.ParseNames(json, path) : null;
        if (className is not null && g.CDim == 0) throw new AnyResException("--class given but the network is unconditional");
        int? classIndex = className is null ? null : ClassLabels.Resolve(className, names, g.CDim, path);
        return new GeneratorTiles(g, classIndex, classPerCall) { ClassNames = names };
    }

    /// <summary>
    /// The mapped ws [1, NumWs, WDim] of a seed's latent (run once per image, shared by all its tiles), with truncation ψ
    /// towards w_avg on the first <paramref name="truncationCutoff"/> ws (all when null, spec §5.4).
    /// </summary>
    public torch.Tensor Map(uint seed, double truncationPsi = 1, int? truncationCutoff = null)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var z = torch.tensor(Seeds.Latent(seed, G.ZDim), new long[] { 1, G.ZDim }, device: Device);
        return Mapping(z, truncationPsi, truncationCutoff).MoveToOuterDisposeScope();
    }

    /// <summary>ws [B, NumWs, WDim] of latents z [B, ZDim], with this renderer's class label.</summary>
    public torch.Tensor Mapping(torch.Tensor z, double truncationPsi = 1, int? truncationCutoff = null) =>
        G.Mapping(z, c?.expand(z.shape[0], -1), truncationPsi, truncationCutoff);

    public torch.Tensor Synthesize(torch.Tensor ws, torch.Tensor transforms) =>
        G.Synthesis(ws, transforms, c: c?.expand(ws.shape[0], -1));
}
