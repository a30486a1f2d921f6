using AnyRes.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Synthesis;

/// <summary>
/// The paper's "upsampled stage 1" baseline as a tile source (spec §8.3, with the full 3×3 inverse the reference meant): each
/// tile is the single p×p output G(z) warped by T⁻¹, tile(g) = G(z)(T g), so any canvas the renderer assembles is G(z)
/// interpolated by <paramref name="warp"/> instead of synthesised at its own scale. Rows of ws may hold different latents.
/// </summary>
public sealed class UpsampledTiles(GeneratorTiles tiles, Func<Tensor, Tensor, Tensor> warp) : ITileSynthesizer
{
    /// <summary>With SG3's band-limited warp (the teacher loss's and the metrics', spec §7).</summary>
    public UpsampledTiles(GeneratorTiles tiles) : this(tiles, BandLimitedWarp) { }

    /// <summary>SG3's band-limited affine warp (images [B,C,p,p], mats [B,3,3]) → images with z(q) = x(mat⁻¹ q); the mask is not needed.</summary>
    public static Tensor BandLimitedWarp(Tensor images, Tensor mats)
    {
        var (image, mask) = AffineWarp.Apply(images, mats);
        mask.Dispose();
        return image;
    }

    public int TileSize => tiles.TileSize;
    public int Channels => tiles.Channels;
    public Device Device => tiles.Device;

    public Tensor Synthesize(Tensor ws, Tensor transforms)
    {
        using var scope = NewDisposeScope();
        var global = tiles.Synthesize(ws, eye(3, device: Device).expand(ws.shape[0], 3, 3));
        return warp(global, linalg.inv(transforms.to(float64)).to(float32)).MoveToOuterDisposeScope();
    }
}
