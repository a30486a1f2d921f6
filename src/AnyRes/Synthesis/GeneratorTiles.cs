using AnyRes.Core;
using AnyRes.Networks;
using TorchSharp;

namespace AnyRes.Synthesis;

/// <summary>
/// A trained generator as a tile source: stage-1 models and official StyleGAN3 models render through the plain synthesis
/// network, stage-2 models through their scale branch (the Generator derives the zoom from each tile's transform, spec §8.1).
/// </summary>
public sealed class GeneratorTiles : ITileSynthesizer
{
    public Generator G { get; }
    public int TileSize => G.ImgResolution;
    public int Channels { get; }
    public torch.Device Device { get; }

    public GeneratorTiles(Generator g)
    {
        G = g;
        G.eval();
        Device = G.parameters().First().device;
        Channels = G.Options.ImgChannels;
    }

    /// <summary>Loads the generator to render from a checkpoint: G_ema when present (the one to sample from), else G.</summary>
    public static GeneratorTiles Load(string path, torch.Device device)
    {
        if (!File.Exists(path)) throw AnyResException.ForFile(path, "no such network file");
        var networks = NetworkCheckpoint.Load(path, device);
        var g = networks.G_ema ?? networks.G ?? throw AnyResException.ForFile(path, "holds no generator (G or G_ema)");
        return new GeneratorTiles(g);
    }

    /// <summary>
    /// The mapped ws [1, NumWs, WDim] of a seed's latent (run once per image, shared by all its tiles), with truncation ψ
    /// towards w_avg on the first <paramref name="truncationCutoff"/> ws (all when null, spec §5.4).
    /// </summary>
    public torch.Tensor Map(uint seed, double truncationPsi = 1, int? truncationCutoff = null, int? classIndex = null)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var z = torch.tensor(Seeds.Latent(seed, G.ZDim), new long[] { 1, G.ZDim }, device: Device);
        torch.Tensor? c = null;
        if (G.CDim > 0)
        {
            if (classIndex is not int k) throw new AnyResException($"the network is conditional on {G.CDim} classes: pass --class 0..{G.CDim - 1}");
            if (k < 0 || k >= G.CDim) throw new AnyResException($"--class {k} is out of range: the network has classes 0..{G.CDim - 1}");
            c = torch.zeros(1, G.CDim, device: Device);
            c[0, k] = 1;
        }
        else if (classIndex is not null) throw new AnyResException("--class given but the network is unconditional");
        return G.Mapping(z, c, truncationPsi, truncationCutoff).MoveToOuterDisposeScope();
    }

    public torch.Tensor Synthesize(torch.Tensor ws, torch.Tensor transforms) => G.Synthesis(ws, transforms);
}
