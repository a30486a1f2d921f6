using AnyRes.Core;
using AnyRes.Networks;
using AnyRes.Tests.Data;

namespace AnyRes.Tests.Networks;

public class BundledModelsTests
{
    [Fact]
    public void A_bare_name_finds_the_bundled_file_and_anything_else_must_exist()
    {
        using var dir = new TempDir();
        var folder = dir["models"];
        Directory.CreateDirectory(folder);
        using (var G = new Generator(GeneratorOptions.Tiny(16))) NetworkCheckpoint.Save(Path.Combine(folder, "small-sky.safetensors"), null, G, null);
        File.WriteAllText(Path.Combine(folder, "small-sky.md"), "card");

        Assert.Equal(["small-sky"], BundledModels.Names(folder));
        Assert.Equal(Path.Combine(folder, "small-sky.safetensors"), BundledModels.Resolve("small-sky", folder));
        var own = Path.Combine(folder, "small-sky.safetensors");
        Assert.Equal(own, BundledModels.Resolve(own, folder));

        var unknown = Assert.Throws<AnyResException>(() => { BundledModels.Resolve("big-sky", folder); });
        Assert.Equal("big-sky: no such network file, and no bundled model of that name (bundled: small-sky)", unknown.Message);
        var missing = dir["nothing/small-sky.safetensors"];
        Assert.Equal($"{missing}: no such network file", Assert.Throws<AnyResException>(() => { BundledModels.Resolve(missing, folder); }).Message);
        Assert.Equal("x.safetensors: no such network file", Assert.Throws<AnyResException>(() => { BundledModels.Resolve("x.safetensors", folder); }).Message);
    }
}

/// <summary>The models the repository ships (models/*.safetensors), as every verb finds them by name.</summary>
public class ShippedModelsTests
{
    [Fact]
    public void The_deep_sky_pair_is_shipped_and_loads_by_name()
    {
        Assert.Contains("deep-sky", BundledModels.Names());
        Assert.Contains("deep-sky-stage1", BundledModels.Names());
        Assert.True(File.Exists(Path.Combine(BundledModels.Folder, "deep-sky.md")), "the model card is shipped next to the model");
        var stage2 = NetworkCheckpoint.Load("deep-sky", TorchSharp.torch.CPU);
        var stage1 = NetworkCheckpoint.Load("deep-sky-stage1", TorchSharp.torch.CPU);
        Assert.True(stage2.G_ema!.HasScaleMapping);   // a stage-2 (patch) generator
        Assert.False(stage1.G_ema!.HasScaleMapping);
        Assert.Equal(stage1.G_ema.ImgResolution, stage2.G_ema.ImgResolution);
        Assert.True(new FileInfo(BundledModels.Resolve("deep-sky")).Length + new FileInfo(BundledModels.Resolve("deep-sky-stage1")).Length < 25L << 20);
    }
}
