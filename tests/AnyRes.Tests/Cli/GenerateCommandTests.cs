using AnyRes.Cli.Commands;
using AnyRes.Core;

namespace AnyRes.Tests.Cli;

public class GenerateCommandTests
{
    [Fact]
    public void SizesAndNumberListsParse()
    {
        Assert.Equal((2048, 1024), GenerateCommand.ParseSize("2048x1024"));
        Assert.Equal((512, 512), GenerateCommand.ParseSize("512"));
        Assert.Equal((7, 9), GenerateCommand.ParseSize("7X9"));
        foreach (var bad in new[] { "0x5", "x5", "5x", "axb", "1x2x3", "-4x4" })
            Assert.Throws<AnyResException>(() => GenerateCommand.ParseSize(bad));
        Assert.Equal(new[] { 0.25, -1, 1e-3 }, GenerateCommand.ParseNumbers("0.25, -1,1e-3", 3, "--x"));
        var e = Assert.Throws<AnyResException>(() => GenerateCommand.ParseNumbers("0.1,0.2", 4, "--region"));
        Assert.StartsWith("--region", e.Message);
    }
}
