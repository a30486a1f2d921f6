using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;

namespace AnyRes.Bench;

/// <summary>
/// The deep-zoom viewer under a browser and under load: <c>viewer --network F [--cli src/AnyRes.Cli/bin/Release/net10.0/AnyRes.Cli.dll]
/// [--window 1280x720] [--canvas 16x9] [--clients 8] [--seconds 60] [--chromium /usr/bin/chromium] [--query side=1] [--screenshot F]</c>
/// (--network repeatable; --query adds page parameters; --seconds 0 skips the load phase). Starts `anyres serve` as a
/// child process on a free loopback port (so RSS is the server's alone), then (1) opens the page in headless Chromium at the
/// window size and times until OpenSeadragon reports the view fully loaded (every tile it wants at the home zoom), and (2) runs
/// <c>clients</c> loops for <c>seconds</c>, each requesting tiles no one asked for before (fresh seeds: no cache hits) at
/// zooms 2–16×, and reports tiles/s, 503s and the server's RSS at the start and end of that phase (the first view has warmed it up;
/// its RSS right after start-up is printed first). Prints one JSON line per phase.
/// </summary>
public static class ViewerBench
{
    public static int Run(string[] args)
    {
        string Opt(string name, string fallback) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
        var networks = args.Select((a, i) => (a, i)).Where(x => x.a == "--network" && x.i + 1 < args.Length).Select(x => Path.GetFullPath(args[x.i + 1])).ToList();
        if (networks.Count == 0) throw new ArgumentException("--network FILE is required");
        string cli = Path.GetFullPath(Opt("--cli", "src/AnyRes.Cli/bin/Release/net10.0/AnyRes.Cli.dll"));
        var window = Opt("--window", "1280x720").Split('x').Select(int.Parse).ToArray();
        string canvas = Opt("--canvas", "16x9"), chromium = Opt("--chromium", "/usr/bin/chromium");
        int clients = int.Parse(Opt("--clients", "8")), seconds = int.Parse(Opt("--seconds", "60"));
        string query = Opt("--query", ""), screenshot = Opt("--screenshot", "");

        using var server = Process.Start(new ProcessStartInfo("dotnet", ["exec", cli, "serve", .. networks.SelectMany(n => new[] { "--network", n }), "--port", "0", "--levels", "8"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("could not start the server");
        try
        {
            string root = WaitForUrl(server);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{{\"phase\": \"started\", \"server_rss_mib\": {RssMiB(server.Id):F1}}}"));
            FirstView(root, window, canvas, query, screenshot, chromium, server.Id).GetAwaiter().GetResult();
            if (seconds > 0) Load(root, canvas, clients, seconds, server.Id).GetAwaiter().GetResult();
        }
        finally
        {
            server.Kill();
            server.WaitForExit();
        }
        return 0;
    }

    static string WaitForUrl(Process server)
    {
        for (string? line; (line = server.StandardOutput.ReadLine()) is not null;)
            if (line.StartsWith("AnyRes viewer at ", StringComparison.Ordinal)) return line["AnyRes viewer at ".Length..].Split(' ')[0].TrimEnd('/');
        throw new InvalidOperationException($"the server stopped: {server.StandardError.ReadToEnd()}");
    }

    static async Task FirstView(string root, int[] window, string canvas, string query, string screenshot, string chromium, int pid)
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = chromium, Headless = true });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = window[0], Height = window[1] } });
        int tiles = 0;
        page.Response += (_, r) => { if (r.Url.Contains("_files/") && r.Status == 200) Interlocked.Increment(ref tiles); };
        var watch = Stopwatch.StartNew();
        await page.GotoAsync($"{root}/?canvas={canvas}&seed=1&psi=0.7&{query}");
        await page.WaitForFunctionAsync("() => state.viewers.length > 0 && state.viewers.filter((v, i) => i === 0 || !document.getElementById('pane2').hidden)" +
            ".every(v => v.world.getItemCount() > 0 && v.world.getItemAt(0).getFullyLoaded())",
            null, new() { Timeout = 600_000, PollingInterval = 100 });
        double s = watch.Elapsed.TotalSeconds;
        if (screenshot.Length > 0) await page.ScreenshotAsync(new() { Path = screenshot });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"phase\": \"first_full_view\", \"window\": \"{window[0]}x{window[1]}\", \"canvas\": \"{canvas}\", \"seconds\": {s:F2}, \"tiles\": {tiles}, \"server_rss_mib\": {RssMiB(pid):F1}}}"));
    }

    static async Task Load(string root, string canvas, int clients, int seconds, int pid)
    {
        using var http = new HttpClient { BaseAddress = new Uri(root), Timeout = TimeSpan.FromMinutes(5) };
        using var info = JsonDocument.Parse(await http.GetStringAsync($"/api/image/{Network(http)}/model/0/0.7/{canvas}"));
        int baseLevel = info.RootElement.GetProperty("minLevel").GetInt32(), maxLevel = info.RootElement.GetProperty("maxLevel").GetInt32();
        int width = info.RootElement.GetProperty("width").GetInt32(), height = info.RootElement.GetProperty("height").GetInt32();
        int tileSize = info.RootElement.GetProperty("tileSize").GetInt32();
        string tilesUrl = info.RootElement.GetProperty("tilesUrl").GetString()!;
        long ok = 0, busy = 0;
        var rss = new List<double> { RssMiB(pid) };
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        var watch = Stopwatch.StartNew();
        var loops = Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            var random = new Random(client);
            for (int i = 0; DateTime.UtcNow < deadline; i++)
            {
                int level = Math.Min(maxLevel, baseLevel + 1 + random.Next(4));   // zoom 2..16
                int shift = maxLevel - level;
                int columns = (int)Math.Ceiling((width >> shift) / (double)tileSize), rows = (int)Math.Ceiling((height >> shift) / (double)tileSize);
                uint seed = (uint)(1_000_000 * (client + 1) + i);                  // never seen before: a real render
                var url = tilesUrl.Replace("/model/0/", $"/model/{seed}/") + $"{level}/{random.Next(columns)}_{random.Next(rows)}.png";
                using var response = await http.GetAsync(url);
                if (response.IsSuccessStatusCode) Interlocked.Increment(ref ok); else Interlocked.Increment(ref busy);
            }
        })).ToList();
        while (!Task.WhenAll(loops).Wait(TimeSpan.FromSeconds(5))) rss.Add(RssMiB(pid));
        double elapsed = watch.Elapsed.TotalSeconds;
        rss.Add(RssMiB(pid));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"phase\": \"load\", \"clients\": {clients}, \"seconds\": {elapsed:F1}, \"tiles\": {ok}, \"tiles_per_s\": {ok / elapsed:F3}, \"status_503\": {busy}, " +
            $"\"tile_size\": {tileSize}, \"server_rss_mib_start\": {rss[0]:F1}, \"server_rss_mib_end\": {rss[^1]:F1}, \"server_rss_mib_max\": {rss.Max():F1}}}"));
    }

    static string Network(HttpClient http)
    {
        using var doc = JsonDocument.Parse(http.GetStringAsync("/api/networks").GetAwaiter().GetResult());
        return doc.RootElement.GetProperty("networks")[0].GetProperty("name").GetString()!;
    }

    static double RssMiB(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:"));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
    }
}
