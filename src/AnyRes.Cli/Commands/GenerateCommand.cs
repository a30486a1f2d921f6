using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using AnyRes.Core;
using AnyRes.Synthesis;

namespace AnyRes.Cli.Commands;

public static class GenerateCommand
{
    public static Command Create()
    {
        var o = new RenderCliOptions();
        var seeds = new Option<string>("--seeds") { Description = "Seeds, e.g. 0-7,10 (z as in StyleGAN3's gen_images.py)", DefaultValueFactory = _ => "0" };
        var size = new Option<string?>("--size") { Description = "Output WxH in pixels, any aspect ratio (default: the model's own size)" };
        var region = new Option<string?>("--region") { Description = "x0,y0,x1,y1: the part of the frame to show, as fractions (0,0 = top left, 1,1 = bottom right)" };
        var canvas = new Option<double?>("--canvas") { Description = "Virtual canvas size N: the whole frame spans N×N pixels (default: cover WxH)" };
        var outDir = new Option<string>("--out") { Description = "Folder for seedNNNN.png", Required = true };
        var command = new Command("generate", "Render images at any size, aspect ratio or region from a trained network, tile by tile (pixel-aligned p×p tiles, streamed to PNG).")
        {
            o.Network, seeds, size, region, canvas, o.Trunc, o.TruncCutoff, o.Class, o.TileBatch, o.MaxPixels, outDir,
        };
        command.SetAction(CliCommon.Action(result =>
        {
            if (result.GetValue(region) is not null && result.GetValue(canvas) is not null) throw new AnyResException("--region and --canvas exclude each other");
            var seedList = Seeds.Parse(result.GetValue(seeds)!);
            var tiles = o.LoadNetwork(result);
            int p = tiles.TileSize;
            var view = result.GetValue(region) is string r ? RegionView(r, result.GetValue(size), p)
                     : result.GetValue(size) is string s ? CanvasView.FullFrame(ParseSize(s).Width, ParseSize(s).Height, result.GetValue(canvas))
                     : CanvasView.FullFrame(p, p, result.GetValue(canvas));
            var dir = result.GetValue(outDir)!;
            for (int i = 0; i < seedList.Count; i++)
            {
                var watch = Stopwatch.StartNew();
                var path = Path.Combine(dir, $"seed{seedList[i]:D4}.png");
                string label = $"seed {seedList[i]} ({i + 1}/{seedList.Count}) {view.Width}x{view.Height}";
                using var ws = o.Map(result, tiles, seedList[i]);
                try { Rendering.RenderPng(tiles, ws, view, path, o.RenderOptions(result, label)); }
                finally { Console.Error.WriteLine(); }   // ends the progress line, so an error starts its own
                Console.WriteLine($"{path}  ({view.Width}x{view.Height}, canvas {view.VirtualSize:0.##}, {watch.Elapsed.TotalSeconds:F1} s)");
            }
            return 0;
        }));
        return command;
    }

    public static (int Width, int Height) ParseSize(string text)
    {
        var parts = text.ToLowerInvariant().Split('x');
        if (parts.Length == 2 && int.TryParse(parts[0], out int w) && int.TryParse(parts[1], out int h) && w > 0 && h > 0) return (w, h);
        if (parts.Length == 1 && int.TryParse(parts[0], out int n) && n > 0) return (n, n);
        throw new AnyResException($"--size: cannot read '{text}' (expected WxH, e.g. 2048x1024)");
    }

    public static double[] ParseNumbers(string text, int count, string option)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new double[parts.Length];
        if (parts.Length != count || parts.Where((v, i) => !double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out values[i])).Any())
            throw new AnyResException($"{option}: cannot read '{text}' (expected {count} comma-separated numbers)");
        return values;
    }

    /// <summary>A region at --size, or without --size at the model's size p on the region's longer side.</summary>
    static CanvasView RegionView(string text, string? size, int p)
    {
        var v = ParseNumbers(text, 4, "--region");
        double rw = v[2] - v[0], rh = v[3] - v[1];
        if (!(rw > 0) || !(rh > 0)) throw new AnyResException($"--region {text}: need x0 < x1 and y0 < y1");
        if (!(v[0] < 1 && v[2] > 0 && v[1] < 1 && v[3] > 0))
            throw new AnyResException($"--region {text}: lies wholly outside the frame (0,0 to 1,1); a region may reach beyond it (extrapolated) but must show part of it");
        var (w, h) = size is not null ? ParseSize(size)
                   : ((int)Math.Max(1, Math.Round(p * rw / Math.Max(rw, rh))), (int)Math.Max(1, Math.Round(p * rh / Math.Max(rw, rh))));
        return CanvasView.Region(w, h, v[0], v[1], v[2], v[3]);
    }
}

/// <summary>Options generate and zoom share: the network, truncation, class, tiling and the size guard.</summary>
sealed class RenderCliOptions
{
    public readonly Option<string> Network = new("--network") { Description = "Network: an AnyRes checkpoint (.safetensors) an official StyleGAN3 / anyres-gan snapshot (.pkl, imported once into the cache), or a bundled model by name (deep-sky: models/ next to the binaries)", Required = true };
    public readonly Option<double> Trunc = new("--trunc") { Description = "Truncation psi (1 = none; the paper's demo uses 0.5)", DefaultValueFactory = _ => 1.0 };
    public readonly Option<int?> TruncCutoff = new("--trunc-cutoff") { Description = "Truncate only the first N ws (default: all)" };
    public readonly Option<string?> Class = new("--class") { Description = "Class to render with a conditional network: a name of its class table (saved by conditional training, e.g. birds) or an index" };
    public readonly Option<int> TileBatch = new("--tile-batch") { Description = "Tiles per generator forward", DefaultValueFactory = _ => 4 };
    public readonly Option<long> MaxPixels = new("--max-pixels") { Description = "Refuse outputs larger than this many pixels", DefaultValueFactory = _ => 1L << 28 };

    public GeneratorTiles LoadNetwork(ParseResult result) => GeneratorTiles.Load(result.GetValue(Network)!, CliCommon.Device(result), result.GetValue(Class));

    public TorchSharp.torch.Tensor Map(ParseResult result, GeneratorTiles tiles, uint seed)
    {
        if (result.GetValue(TruncCutoff) is int cutoff && cutoff < 0) throw new AnyResException($"--trunc-cutoff {cutoff}: expected 0 or more");
        return tiles.Map(seed, result.GetValue(Trunc), result.GetValue(TruncCutoff));
    }

    /// <summary>Render options with a one-line progress display on stderr.</summary>
    public RenderOptions RenderOptions(ParseResult result, string label) => new()
    {
        TileBatch = result.GetValue(TileBatch),
        MaxPixels = result.GetValue(MaxPixels),
        Progress = (done, total) => Console.Error.Write($"\r{label}: tile {done}/{total}   "),
    };
}
