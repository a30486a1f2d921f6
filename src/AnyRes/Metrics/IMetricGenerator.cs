using TorchSharp;

namespace AnyRes.Metrics;

/// <summary>
/// What the metrics need from a trained generator. Kept as a seam so the metric engine does not depend on how images are
/// rendered: <see cref="Patches"/> is G(z, transform) (spec §5.1, scale branch included), <see cref="Full"/> is the
/// tile-assembled R×R image (spec §8.1, the synthesis renderer), <see cref="Upsampled"/> the stage-1 image G(z) upsampled
/// to R×R with the band-limited warp (spec §8.3, correctly: the full 3×3 inverse). All return [B,3,·,·] in [−1,1].
/// <c>classes</c> (indices [B]) label the rows for a conditional network when the metric chooses them (per-class and
/// all-class FD); null: the source's own class, if any.
/// </summary>
public interface IMetricGenerator
{
    /// <summary>p: the generator's output side.</summary>
    int Resolution { get; }
    int ZDim { get; }
    torch.Device Device { get; }
    /// <summary>Changes whenever the images would (weights, mode): keys an interrupted run's saved fake features.</summary>
    string Identity { get; }
    torch.Tensor Patches(torch.Tensor z, torch.Tensor transforms, torch.Tensor? classes = null);
    torch.Tensor Full(torch.Tensor z, int size, torch.Tensor? classes = null);
    torch.Tensor Upsampled(torch.Tensor z, int size, torch.Tensor? classes = null);
}
