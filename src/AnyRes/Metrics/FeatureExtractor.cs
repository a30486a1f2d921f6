using AnyRes.Features;
using AnyRes.Core;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AnyRes.Metrics;

/// <summary>A frozen feature network for the Fréchet distance and KID. Input: float [B,3,H,W] holding uint8 values (0..255).</summary>
public interface IFeatureExtractor
{
    /// <summary>"resnet18" or "inception"; decides the result names (fd_resnet18_* vs fid_*).</summary>
    string Name { get; }
    /// <summary>The side the network looks at (224 or 299); sub-patch metrics crop this size.</summary>
    int NativeSize { get; }
    Device Device { get; }
    Tensor Extract(Tensor images255);
}

public static class FeatureExtractors
{
    /// <summary><c>resnet18</c> (default, shipped) or <c>inception</c> (needs <paramref name="detectorFile"/>).</summary>
    public static IFeatureExtractor Create(string name, string? detectorFile, Device device) => name switch
    {
        "resnet18" => new ResNet18Extractor(ResNet18Features.LoadDefault(device), device),
        "inception" => new TorchScriptExtractor(detectorFile ?? throw new AnyResException("--detector inception needs --detector-file FILE (NVIDIA's inception-2015-12-05 as TorchScript)"), device),
        _ => throw new AnyResException($"--detector {name}: expected resnet18 or inception"),
    };

    /// <summary>Generator output in [−1,1] → uint8 values as the reference quantises fakes: uint8(clamp(x·127.5 + 128, 0, 255)).</summary>
    public static Tensor Quantize(Tensor images) => (images * 127.5 + 128).clamp(0, 255).to(ScalarType.Byte).to(float32);
}

/// <summary>
/// The ImageNet ResNet18 (<see cref="ResNet18Features"/>): antialiased bicubic resize to 224×224 (no-op at 224), the shipped
/// mean-image preprocessing, 512-d pooled stage-4 features.
/// </summary>
public sealed class ResNet18Extractor(ResNet18Features net, Device device) : IFeatureExtractor
{
    public string Name => "resnet18";
    public int NativeSize => ResNet18Features.Size;
    public Device Device => device;

    public Tensor Extract(Tensor images255)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = images255.to(device);
        if (x.shape[2] != NativeSize || x.shape[3] != NativeSize)
            x = F.interpolate(x, [NativeSize, NativeSize], mode: InterpolationMode.Bicubic, align_corners: false, antialias: true);
        return net.Features(x).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// A TorchScript detector with NVIDIA's call signature <c>forward(img, return_features)</c>, e.g. inception-2015-12-05
/// converted once with Python (<c>torch.jit.save</c>); it resizes internally and returns 2048-d pool3 features.
/// </summary>
public sealed class TorchScriptExtractor : IFeatureExtractor
{
    readonly jit.ScriptModule<Tensor, bool, Tensor> module;

    public TorchScriptExtractor(string path, Device device)
    {
        if (!File.Exists(path)) throw AnyResException.ForFile(path, "detector file not found");
        try { module = jit.load<Tensor, bool, Tensor>(path, device); }
        catch (Exception e) when (e is not AnyResException) { throw AnyResException.ForFile(path, $"not a TorchScript module ({e.Message.Split('\n')[0]})", e); }
        module.eval();
        Device = device;
    }

    public string Name => "inception";
    public int NativeSize => 299;
    public Device Device { get; }

    public Tensor Extract(Tensor images255)
    {
        using var _ = no_grad();
        using var x = images255.to(Device);
        return module.call(x, true);
    }
}
