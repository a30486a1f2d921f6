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
    readonly torch.Tensor? c;   // one-hot [1, CDim], or null for unconditional networks

    public Generator G { get; }
    public int TileSize => G.ImgResolution;
    public int Channels => G.Options.ImgChannels;
    public torch.Device Device { get; }

    /// <summary>The class rendered by a conditional network (null when unconditional).</summary>
    public int? ClassIndex { get; }

    public GeneratorTiles(Generator g, int? classIndex = null)
    {
        G = g;
        G.eval();
        Device = G.parameters().First().device;
        if (G.CDim > 0)
        {
            if (classIndex is not int k) throw new AnyResException($"the network is conditional on {G.CDim} classes: pass --class 0..{G.CDim - 1}");
            if (k < 0 || k >= G.CDim) throw new AnyResException($"--class {k} is out of range: the network has classes 0..{G.CDim - 1}");
            c = torch.nn.functional.one_hot(torch.tensor(new long[] { k }, device: Device), G.CDim).to(torch.float32).DetachFromDisposeScope();
            ClassIndex = k;
        }
        else if (classIndex is not null) throw new AnyResException("--class given but the network is unconditional");
    }

    /// <summary>
    /// Loads the generator to render from a checkpoint (any path or name <see cref="NetworkCheckpoint.Load"/> takes): G_ema when
    /// present (the one to sample from), else G. <paramref name="className"/> is a class name of the checkpoint's class table
    /// (saved by conditional training) or a class index.
    /// </summary>
    public static GeneratorTiles Load(string path, torch.Device device, string? className = null)
    {
        var networks = NetworkCheckpoint.Load(path, device);
        var g = networks.G_ema ?? networks.G ?? throw AnyResException.ForFile(path, "holds no generator (G or G_ema)");
        var names = networks.Metadata.TryGetValue(ClassLabels.MetadataKey, out var json) ? ClassLabels.ParseNames(json, path) : null;
        if (className is not null && g.CDim == 0) throw new AnyResException("--class given but the network is unconditional");
        int? classIndex = className is null ? null : ClassLabels.Resolve(className, names, g.CDim, path);
        return new GeneratorTiles(g, classIndex);
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
