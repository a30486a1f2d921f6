using System.Diagnostics;
using System.Globalization;
using AnyRes.Networks;
using AnyRes.Synthesis;
using TorchSharp;

namespace AnyRes.Bench;

/// <summary>
/// Tile-render throughput and peak memory: <c>render [--sizes 1024x1024,4096x2048] [--cfg stylegan3-t] [--resolution 256]
/// [--mode patch|global] [--tile-batch 4] [--threads 2] [--max-tiles 0]</c>. --mode patch (default) is a stage-2 generator
/// with the scale branch, global a stage-1 / official SG3 one. A random-init generator renders each size to a streamed PNG in a temporary
/// folder (the PNG write is timed too). Prints one JSON line per size; peak RSS is the process high-water mark so far, so sizes
/// run smallest first and a flat figure means memory does not grow with the output. --max-tiles renders only the first rows
/// of tiles (a region) to bound the run time; the per-tile figures stay comparable.
/// </summary>
public static class RenderBench
{
    public static int Run(string[] args)
    {
        string Opt(string name, string fallback) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
        int resolution = int.Parse(Opt("--resolution", "256")), tileBatch = int.Parse(Opt("--tile-batch", "4"));
        int threads = int.Parse(Opt("--threads", "2")), maxTiles = int.Parse(Opt("--max-tiles", "0"));
        string cfg = Opt("--cfg", "stylegan3-t");
        var mode = Opt("--mode", "patch") == "global" ? TrainingMode.Global : TrainingMode.Patch;
        torch.set_num_threads(threads);
        torch.manual_seed(0);
        var tiles = new GeneratorTiles(new Generator(GeneratorOptions.Preset(cfg, resolution) with { TrainingMode = mode }));
        var dir = Directory.CreateTempSubdirectory("anyres-render-bench").FullName;
        try
        {
            using (var warm = tiles.Map(0)) Rendering.RenderImage(tiles, warm, CanvasView.FullFrame(resolution, resolution));
            foreach (var size in Opt("--sizes", "1024x1024,4096x2048").Split(','))
            {
                var wh = size.ToLowerInvariant().Split('x').Select(int.Parse).ToArray();
                var view = CanvasView.FullFrame(wh[0], wh[1]);
                var grid = new TileGrid(view.Width, view.Height, resolution);
                if (maxTiles > 0 && maxTiles < grid.Count)   // keep whole tile rows: the region rendered is the top of the image
                {
                    int rows = Math.Max(1, maxTiles / grid.Columns);
                    view = view with { Height = Math.Min(view.Height, rows * resolution) };
                    grid = new TileGrid(view.Width, view.Height, resolution);
                }
                var watch = Stopwatch.StartNew();
                using (var ws = tiles.Map(1, 0.7, 8))
                    Rendering.RenderPng(tiles, ws, view, Path.Combine(dir, "out.png"), new RenderOptions { TileBatch = tileBatch });
                double seconds = watch.Elapsed.TotalSeconds;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{{\"impl\": \"anyres\", \"size\": \"{size}\", \"rendered\": \"{view.Width}x{view.Height}\", \"tiles\": {grid.Count}, \"seconds\": {seconds:F3}, " +
                    $"\"tiles_per_s\": {grid.Count / seconds:F4}, \"ms_per_tile\": {1000 * seconds / grid.Count:F1}, \"peak_rss_mib\": {PeakRssMiB():F1}, " +
                    $"\"mode\": \"{mode}\", \"tile_batch\": {tileBatch}, \"threads\": {torch.get_num_threads()}}}"));
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
        return 0;
    }

    static double PeakRssMiB()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:"));
        return line is null ? double.NaN : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }
}
