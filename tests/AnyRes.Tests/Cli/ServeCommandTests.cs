using AnyRes.Cli;
using AnyRes.Cli.Commands;
using AnyRes.Web;

namespace AnyRes.Tests.Cli;

/// <summary>anyres serve's refusals (in-process); serving itself is tested in tests/AnyRes.Web.Tests.</summary>
[Collection("Console")]
public class ServeCommandTests
{
    static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run([ServeCommand.Create()], args);

    [Fact]
    public void AMissingNetworkStopsTheStartWithOneLine()
    {
        var missing = Path.Combine(Path.GetTempPath(), "anyres-no-such-network.safetensors");
        var (code, _, err) = Run("serve", "--network", missing, "--port", "0");
        Assert.Equal(CliCommon.UserError, code);
        Assert.Equal([$"error: {missing}: no such network file"], err.Trim().Split('\n'));
    }

    [Fact]
    public void ANonLoopbackHostIsWarnedAboutAndBadOptionsAreOneLine()
    {
        var (code, _, err) = Run("serve", "--network", "x.safetensors", "--host", "0.0.0.0", "--levels", "40");
        Assert.Equal(CliCommon.UserError, code);
        var lines = err.Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("warning: --host 0.0.0.0", lines[0]);
        Assert.StartsWith("error: --levels 40", lines[1]);
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("localhost", true)]
    [InlineData("0.0.0.0", false)]
    [InlineData("192.168.1.4", false)]
    [InlineData("example.org", false)]
    public void OnlyLoopbackHostsCountAsLoopback(string host, bool loopback) => Assert.Equal(loopback, ViewerApp.IsLoopback(host));
}
