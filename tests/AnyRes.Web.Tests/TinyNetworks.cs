using System.Runtime.CompilerServices;
using AnyRes.Networks;
using AnyRes.Web;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace AnyRes.Web.Tests;

static class NativeSetup
{
    /// <summary>Apply the library's native settings before any tensor (see NativeSettings).</summary>
    [ModuleInitializer]
    internal static void Init() => AnyRes.Core.NativeSettings.Apply();
}

/// <summary>Random-init tiny checkpoints written once per test run: a stage-2 (scale branch) and a stage-1 generator.</summary>
public static class TinyNetworks
{
    static readonly Lazy<(string Stage2, string Stage1)> Files = new(() =>
    {
        var dir = Directory.CreateTempSubdirectory("anyres-viewer").FullName;
        string Save(string name, GeneratorOptions options)
        {
            TorchSharp.torch.manual_seed(7);
            var path = Path.Combine(dir, name + ".safetensors");
            NetworkCheckpoint.Save(path, null, new Generator(options), null);
            return path;
        }
        return (Save("stage2", GeneratorOptions.Tiny(16) with { TrainingMode = TrainingMode.Patch }), Save("stage1", GeneratorOptions.Tiny(16)));
    });

    public static string Stage2 => Files.Value.Stage2;
    public static string Stage1 => Files.Value.Stage1;

    /// <summary>Viewer options for p = 16: 32-px tiles (one forward of four model tiles), three levels past the base.</summary>
    public static ViewerOptions Options() => new()
    {
        Networks = [Stage2, Stage1], TileSize = 32, Levels = 3, MaxRenders = 2, QueueLength = 2, CacheBytes = 1 << 20,
    };
}

/// <summary>The real app (Program) on a test server, with the given viewer options.</summary>
public sealed class ViewerFactory(ViewerOptions options) : WebApplicationFactory<Program>
{
    public ViewerFactory() : this(TinyNetworks.Options()) { }

    public Viewer Viewer => Services.GetRequiredService<Viewer>();

    protected override void ConfigureWebHost(IWebHostBuilder builder) =>
        builder.ConfigureTestServices(services => services.AddSingleton(options));
}
