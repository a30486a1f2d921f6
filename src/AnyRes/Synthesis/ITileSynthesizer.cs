using TorchSharp;

namespace AnyRes.Synthesis;

/// <summary>
/// What the renderer needs from a generator: p×p images of one latent through given patch transforms. Keeping the renderer on
/// this seam (not on the Generator) is what lets the tiling be tested exactly against an analytic field.
/// </summary>
public interface ITileSynthesizer
{
    /// <summary>p: the side of every tile in pixels.</summary>
    int TileSize { get; }
    int Channels { get; }
    torch.Device Device { get; }

    /// <summary>ws = one latent's mapped ws repeated B times (leading dimension B); transforms [B, 3, 3] (spec §4.4) →
    /// images [B, Channels, p, p], nominally in [−1, 1].</summary>
    torch.Tensor Synthesize(torch.Tensor ws, torch.Tensor transforms);
}
