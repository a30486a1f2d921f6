using AnyRes.Core;
using AnyRes.Data;
using AnyRes.Synthesis;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Metrics;

/// <summary>
/// A trained generator as a metric image source. Patches: G(z, T) through the scale branch (spec §5); full R×R images: the
/// synthesis renderer's tile assembly (spec §8.1). With <see cref="AsUpsampledBaseline"/> every image instead comes from the
/// single p×p output G(z) upsampled by the band-limited warp (spec §8.3, with the full 3×3 inverse the reference meant):
/// tile(g) = G(z)(T g), i.e. warp(G(z), T⁻¹) — the paper's "upsampled stage 1" baseline, for patches and full images alike.
/// </summary>
public sealed class GeneratorMetricSource(GeneratorTiles tiles) : IMetricGenerator
{
    /// <summary>The §7 warp: (images [B,C,p,p], mats [B,3,3]) → images [B,C,p,p] with z(q) = x(mat⁻¹ q), e.g. <see cref="UpsampledTiles.BandLimitedWarp"/>.</summary>
    public Func<Tensor, Tensor, Tensor>? Warp { get; init; }
    public bool AsUpsampledBaseline { get; init; }

    /// <summary>The network's G_ema as a metric source: rendered by the model, or (<paramref name="upsampled"/>) its p×p image through the band-limited warp.
    /// <paramref name="classPerCall"/>: a conditional network whose classes the metric gives with each call.</summary>
    public static GeneratorMetricSource Load(string network, Device device, bool upsampled, string? className = null, bool classPerCall = false) =>
        new(GeneratorTiles.Load(network, device, className, classPerCall)) { AsUpsampledBaseline = upsampled, Warp = UpsampledTiles.BandLimitedWarp };

    public int Resolution => tiles.TileSize;
    /// <summary>The network's number of classes (0: unconditional) and its class table, if saved.</summary>
    public int Classes => tiles.G.CDim;
    public IReadOnlyList<string>? ClassNames => tiles.ClassNames;
    public int ZDim => tiles.G.ZDim;
    public Device Device => tiles.Device;

    /// <summary>A hash of every parameter and buffer of G, plus the baseline switch and the class of a conditional network.</summary>
    public string Identity => identity ??= ComputeIdentity();
    string? identity;

    string ComputeIdentity() => MetricRunner.Hash(tiles.G.state_dict().Select(kv => (kv.Key, kv.Value)))! + (AsUpsampledBaseline ? "-up" : "")
        + (tiles.ClassIndex is int k ? $"-class{k}" : "");

    GeneratorTiles Labelled(Tensor? classes) => classes is null ? tiles : tiles.WithClasses(classes);

    public Tensor Patches(Tensor z, Tensor transforms, Tensor? classes = null)
    {
        using var scope = NewDisposeScope();
        var labelled = Labelled(classes);
        var ws = labelled.Mapping(z);
        var images = AsUpsampledBaseline ? WarpTiles(labelled, ws, transforms) : labelled.Synthesize(ws, transforms);
        return images.MoveToOuterDisposeScope();
    }

    public Tensor Full(Tensor z, int size, Tensor? classes = null) => AsUpsampledBaseline ? Upsampled(z, size, classes) : Rendered(z, size, classes);

    Tensor Rendered(Tensor z, int size, Tensor? classes)
    {
        using var scope = NewDisposeScope();
        var images = new List<Tensor>();
        for (long i = 0; i < z.shape[0]; i++)
        {
            var labelled = Labelled(classes?.narrow(0, i, 1));
            var ws = labelled.Mapping(z.narrow(0, i, 1));
            var buffer = Rendering.RenderImage(labelled, ws, CanvasView.FullFrame(size, size));
            images.Add(torch.tensor(buffer.Pixels, [size, size, buffer.Channels]).permute(2, 0, 1));
        }
        return torch.stack(images).to(Device).MoveToOuterDisposeScope();
    }

    /// <summary>fd-up{R}: G(z) at p, then each p×p tile of the R×R canvas (spec §8.1 tile layout) upsampled by the warp.</summary>
    public Tensor Upsampled(Tensor z, int size, Tensor? classes = null)
    {
        using var scope = NewDisposeScope();
        int p = Resolution;
        if (size < p) throw new AnyResException($"up{size}: R must be at least the generator's resolution {p}");
        var labelled = Labelled(classes);
        var ws = labelled.Mapping(z);
        var canvas = torch.zeros([z.shape[0], 3, size, size], device: Device);
        var origins = Enumerable.Range(0, (size + p - 1) / p).Select(k => Math.Min(k * p, size - p)).Distinct().ToList();
        foreach (var y in origins)
            foreach (var x in origins)
            {
                var t = PatchTransform.Stack(Enumerable.Repeat(PatchTransform.FromCrop(x, y, p, size), (int)z.shape[0]).ToList(), Device);
                canvas[.., .., y..(y + p), x..(x + p)] = WarpTiles(labelled, ws, t);
            }
        return canvas.MoveToOuterDisposeScope();
    }

    Tensor WarpTiles(GeneratorTiles labelled, Tensor ws, Tensor transforms) =>
        new UpsampledTiles(labelled, Warp ?? throw new InvalidOperationException("the upsampled baseline needs a Warp")).Synthesize(ws, transforms);
}
