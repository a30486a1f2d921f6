using AnyRes.Core;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AnyRes.Features;

/// <summary>
/// A perceptual distance for the teacher loss (spec §6.3). Images are [B,3,H,W] in [−1,1]; both methods are differentiable
/// with respect to <c>x</c>; the networks are frozen.
/// </summary>
public interface IPerceptualDistance
{
    string Name { get; }
    /// <summary>Spatial distance map [B,1,H,W] at the input's size (LPIPS <c>spatial=True</c>); the masked loss averages it.</summary>
    Tensor Map(Tensor x, Tensor y);
    /// <summary>Per-sample distance [B]: the spatial mean of <see cref="Map"/>.</summary>
    Tensor Distance(Tensor x, Tensor y);
}

public static class PerceptualDistance
{
    /// <summary>The default (<see cref="ResNetPerceptual"/>) or, given <paramref name="lpipsFile"/>, LPIPS-AlexNet from that file.</summary>
    public static IPerceptualDistance Create(string? lpipsFile, Device device) =>
        lpipsFile is null ? new ResNetPerceptual(ResNet18Features.LoadDefault(device)) : LpipsAlex.Load(lpipsFile, device);

    /// <summary>x / (‖x‖₂ over channels + 1e-10), LPIPS's <c>normalize_tensor</c>.</summary>
    public static Tensor UnitNormalize(Tensor x) => x / (x.square().sum(1, keepdim: true).sqrt() + 1e-10);

    /// <summary>Bilinear resize of a [B,1,h,w] map to the input's size (align_corners=False), LPIPS's <c>upsample</c>.</summary>
    public static Tensor Upsample(Tensor map, long height, long width) =>
        F.interpolate(map, [height, width], mode: InterpolationMode.Bilinear, align_corners: false);
}

/// <summary>
/// LPIPS-style distance on the ImageNet ResNet18 (the default, since LPIPS-AlexNet weights are not shipped): the four stage
/// activations are unit-normalised over channels, their squared differences summed over channels (LPIPS with uniform
/// linear weights, as lpips' <c>lpips=False</c> baseline), each map resized bilinearly to the input size, and the four maps
/// averaged with uniform weights. Range [0, 4]. Inputs [−1,1] → RGB 0..255 minus the per-channel ImageNet mean, any size.
/// </summary>
public sealed class ResNetPerceptual(ResNet18Features net) : IPerceptualDistance
{
    public string Name => "resnet18";

    public Tensor Map(Tensor x, Tensor y)
    {
        Shapes.Assert(x, y.shape);
        using var scope = NewDisposeScope();
        long b = x.shape[0];
        var both = torch.cat([x, y]);
        var stages = net.forward(net.Preprocess((both + 1) * 127.5, channelMean: true));
        Tensor? sum = null;
        foreach (var f in stages)
        {
            var u = PerceptualDistance.UnitNormalize(f);
            var d = (u[..(int)b] - u[(int)b..]).square().sum(1, keepdim: true);
            var m = PerceptualDistance.Upsample(d, x.shape[2], x.shape[3]);
            sum = sum is null ? m : sum + m;
        }
        return (sum! / stages.Length).MoveToOuterDisposeScope();
    }

    public Tensor Distance(Tensor x, Tensor y)
    {
        using var map = Map(x, y);
        return map.mean([1, 2, 3]);
    }
}
