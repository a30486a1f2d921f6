using System.Text.RegularExpressions;
using AnyRes.Networks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Playwright;

namespace AnyRes.Web.Tests;

/// <summary>
/// A fact that needs Debian's chromium. Off CI it is skipped, with the reason, when the browser is missing; on CI (CI=true)
/// it always runs, since .ci/run installs the package.
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public const string Chromium = "/usr/bin/chromium";

    public ChromiumFactAttribute()
    {
        if (!File.Exists(Chromium) && Environment.GetEnvironmentVariable("CI") != "true")
            Skip = $"{Chromium} not found (apt-get install chromium); .ci/run installs it on CI";
    }
}

/// <summary>The page in headless Chromium against a real Kestrel server: first tiles, three levels deeper, an image on the canvas.</summary>
public class BrowserTests
{
    [ChromiumFact]
    public async Task ThePageShowsTilesAndZoomingInThreeLevelsServesDeeperTiles()
    {
        var dir = Directory.CreateTempSubdirectory("anyres-browser").FullName;
        var network = Path.Combine(dir, "tiny32.safetensors");
        TorchSharp.torch.manual_seed(3);
        NetworkCheckpoint.Save(network, null, new Generator(GeneratorOptions.Tiny(32) with { TrainingMode = TrainingMode.Patch }), null);

        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = ViewerApp.Build(builder, new ViewerOptions { Networks = [network], TileSize = 128, Levels = 10 });
        await app.StartAsync();
        string root = app.Urls.Single();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = ChromiumFactAttribute.Chromium, Headless = true });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 480, Height = 320 } });
        var served = new System.Collections.Concurrent.ConcurrentBag<(int Level, int Status)>();
        var tileUrl = new Regex(@"_files/(\d+)/\d+_\d+\.png$");
        page.Response += (_, response) =>
        {
            if (tileUrl.Match(response.Url) is { Success: true } m) served.Add((int.Parse(m.Groups[1].Value), response.Status));
        };
        const string fullyLoaded = "() => state.viewers.length > 0 && state.viewers[0].world.getItemCount() > 0 && state.viewers[0].world.getItemAt(0).getFullyLoaded()";
        var wait = new PageWaitForFunctionOptions { Timeout = 240_000, PollingInterval = 200 };

        await page.GotoAsync(root + "/");
        await page.WaitForFunctionAsync(fullyLoaded, null, wait);
        Assert.NotEmpty(served);
        Assert.All(served, s => Assert.Equal(200, s.Status));
        int first = served.Max(s => s.Level);

        for (int step = 1; step <= 3; step++)
        {
            await page.EvaluateAsync("() => { const v = state.viewers[0].viewport; v.zoomBy(2, undefined, true); v.applyConstraints(true); }");
            await page.WaitForFunctionAsync($"() => performance.getEntriesByType('resource').some(e => e.name.includes('_files/{first + step}/'))", null, wait);
            await page.WaitForFunctionAsync(fullyLoaded, null, wait);
        }
        Assert.Contains(served, s => s.Level == first + 3 && s.Status == 200);
        Assert.All(served, s => Assert.Equal(200, s.Status));
        Assert.Contains("zoom", await page.InnerTextAsync("#zoomText"));

        var canvas = await page.Locator("#viewer1").ScreenshotAsync();
        Assert.True(Pngs.GreyDeviation(canvas) > 2, $"canvas looks blank (grey deviation {Pngs.GreyDeviation(canvas):F2})");
        await page.ScreenshotAsync(new() { Path = Path.Combine(AppContext.BaseDirectory, "viewer-screenshot.png") });
        await app.StopAsync();
    }
}
