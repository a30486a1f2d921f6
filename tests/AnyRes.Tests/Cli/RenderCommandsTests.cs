using System.CommandLine;
using AnyRes.Cli;
using AnyRes.Cli.Commands;
using AnyRes.Networks;
using SkiaSharp;

namespace AnyRes.Tests.Cli;

/// <summary>generate and zoom end to end (in-process) on a saved tiny random-init generator.</summary>
[Collection("Console")]
public class RenderCommandsTests
{
    static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run([GenerateCommand.Create(), ZoomCommand.Create()], args);

    static string SaveTiny(string dir)
    {
        TorchSharp.torch.manual_seed(5);
        var path = Path.Combine(dir, "tiny.safetensors");
        NetworkCheckpoint.Save(path, null, new Generator(GeneratorOptions.Tiny(32)), null);
        return path;
    }

    [Fact]
    public void GenerateWritesOnePngPerSeedAtTheRequestedSize()
    {
        var dir = Directory.CreateTempSubdirectory("anyres-generate").FullName;
        var net = SaveTiny(dir);
        var (code, stdout, stderr) = Run("generate", "--network", net, "--seeds", "1-2", "--size", "70x40", "--trunc", "0.7", "--tile-batch", "3", "--out", Path.Combine(dir, "out"));
        Assert.True(code == 0, stderr);
        foreach (var seed in new[] { "seed0001.png", "seed0002.png" })
        {
            using var bitmap = SKBitmap.Decode(Path.Combine(dir, "out", seed));
            Assert.Equal((70, 40), (bitmap.Width, bitmap.Height));
        }
        Assert.Contains("seed0002.png", stdout);
        Assert.Contains("tile 6/6", stderr);   // 3×2 tiles of 32
    }

    [Fact]
    public void ZoomWritesAnAnimatedGifAndBadInputIsOneLine()
    {
        var dir = Directory.CreateTempSubdirectory("anyres-zoom").FullName;
        var net = SaveTiny(dir);
        var gif = Path.Combine(dir, "zoom.gif");
        var (code, _, stderr) = Run("zoom", "--network", net, "--seed", "3", "--center", "0.3,0.6", "--to", "4", "--frames", "3", "--size", "40x32", "--out", gif);
        Assert.True(code == 0, stderr);
        using (var codec = SKCodec.Create(gif))
        {
            Assert.Equal(3, codec.FrameCount);
            Assert.Equal((40, 32), (codec.Info.Width, codec.Info.Height));
        }
        var (badCode, _, badErr) = Run("generate", "--network", net, "--size", "100000x100000", "--out", Path.Combine(dir, "big"));
        Assert.Equal(CliCommon.UserError, badCode);
        Assert.Contains("max-pixels", badErr);
        Assert.False(Directory.Exists(Path.Combine(dir, "big")) && Directory.EnumerateFiles(Path.Combine(dir, "big")).Any());
        (badCode, _, badErr) = Run("zoom", "--network", Path.Combine(dir, "missing.safetensors"), "--out", gif);
        Assert.Equal(CliCommon.UserError, badCode);
        Assert.Single(badErr.Trim().Split('\n'));
    }
}
