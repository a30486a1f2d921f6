using System.CommandLine;
using AnyRes.Cli;
using AnyRes.Cli.Commands;
using AnyRes.Networks;
using static TorchSharp.torch;

namespace AnyRes.Tests.Cli;

[Collection("Console")]
public class CheckpointCliTests
{
    static int Run(params string[] args) => CliRunner.Run([InitCommand.Create(), InfoCommand.Create()], args).Code;

    [Fact]
    public void InitWritesALoadableCheckpointAndInfoReadsIt()
    {
        var dir = Directory.CreateTempSubdirectory("anyres-cli").FullName;
        var path = Path.Combine(dir, "tiny.safetensors");
        Assert.Equal(0, Run("init", "--cfg", "tiny", "--size", "16", "--patch", "--seed", "3", "--out", path));
        Assert.Equal([path], Directory.GetFiles(dir));
        var n = NetworkCheckpoint.Load(path, CPU);
        Assert.True(n.G!.HasScaleMapping);
        Assert.Equal(16, n.D!.Options.ImgResolution);
        foreach (var ((k, a), (_, b)) in n.G.state_dict().Zip(n.G_ema!.state_dict())) Assert.True(a.eq(b).all().item<bool>(), k);
        Assert.Equal(0, Run("info", path));
    }

    [Fact]
    public void BadInputExitsWithTwo()
    {
        var dir = Directory.CreateTempSubdirectory("anyres-cli").FullName;
        Assert.Equal(2, Run("info", Path.Combine(dir, "missing.safetensors")));
        var text = Path.Combine(dir, "x.safetensors");
        File.WriteAllText(text, "not a checkpoint at all");
        Assert.Equal(2, Run("info", text));
        Assert.Equal(2, Run("init", "--cfg", "tiny", "--size", "48", "--out", Path.Combine(dir, "bad.safetensors")));
        Assert.False(File.Exists(Path.Combine(dir, "bad.safetensors")));
    }
}
