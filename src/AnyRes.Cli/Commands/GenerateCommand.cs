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
        var panorama = new Option<bool>("--panorama") { Description = "A panorama model's whole 360° strip, width = height·360/fov, its right edge continuing into its left; with --region, x fractions are of the turn (x1 > 1 wraps around)" };
        var height = new Option<int?>("--height") { Description = "With --panorama: the strip's height in pixels (default: the model's size)" };
        var outDir = new Option<string>("--out") { Description = "Folder for seedNNNN.png", Required = true };
        var command = new Command("generate", "Render images at any size, aspect ratio or region from a trained network, tile by tile (pixel-aligned p×p tiles, streamed to PNG).")
        {
            o.Network, seeds, size, region, canvas, panorama, height, o.Trunc, o.TruncCutoff, o.Class, o.TileBatch, o.MaxPixels, outDir,
        };
        command.SetAction(CliCommon.Action(result =>
        {
            if (result.GetValue(region) is not null && result.GetValue(canvas) is not null) throw new AnyResException("--region and --canvas exclude each other");
            var seedList = Seeds.Parse(result.GetValue(seeds)!);
            var tiles = o.LoadNetwork(result);
            int p = tiles.TileSize;
            if (result.GetValue(height) is not null && !result.GetValue(panorama)) throw new AnyResException("--height is for --panorama (use --size otherwise)");
            var view = result.GetValue(panorama) ? PanoramaView(tiles, result.GetValue(region), result.GetValue(size), result.GetValue(height), result.GetValue(canvas))
                     : result.GetValue(region) is string r ? RegionView(r, result.GetValue(size), p, null)
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

    /// <summary>
    /// A region at --size, or without --size at the model's size p on the region's longer side. x fractions are of the frame, or
    /// for a panorama of its <paramref name="turn"/> (frames per turn).
    /// </summary>
    static CanvasView RegionView(string text, string? size, int p, double? turn)
    {
        double period = turn ?? 1;
        var v = ParseNumbers(text, 4, "--region");
        double rw = (v[2] - v[0]) * period, rh = v[3] - v[1];
        if (!(rw > 0) || !(rh > 0)) throw new AnyResException($"--region {text}: need x0 < x1 and y0 < y1");
        bool wraps = turn is not null;   // a panorama's turn continues on both sides: any x shows part of it
        if (!((wraps || (v[0] < 1 && v[2] > 0)) && v[1] < 1 && v[3] > 0))
            throw new AnyResException($"--region {text}: lies wholly outside the frame (0,0 to 1,1); a region may reach beyond it (extrapolated) but must show part of it");
        var (w, h) = size is not null ? ParseSize(size)
                   : ((int)Math.Max(1, Math.Round(p * rw / Math.Max(rw, rh))), (int)Math.Max(1, Math.Round(p * rh / Math.Max(rw, rh))));
        return CanvasView.Region(w, h, v[0] * period, v[1], v[2] * period, v[3]);
    }

    /// <summary>The whole strip at --height (default p), or a --region of it.</summary>
    static CanvasView PanoramaView(GeneratorTiles tiles, string? region, string? size, int? height, double? canvas)
    {
        var period = tiles.G.PanoramaPeriod ?? throw new AnyResException("--panorama needs a panorama model (trained with --panorama, or an imported global-360 snapshot)");
        if (canvas is not null) throw new AnyResException("--canvas does not apply to --panorama (use --height or --region)");
        if (region is not null)
        {
            if (height is not null) throw new AnyResException("--region with --panorama takes --size, not --height");
            return RegionView(region, size, tiles.TileSize, period);
        }
        if (size is not null) throw new AnyResException("--panorama takes --height (the width follows from the turn); use --region with --size for a part");
        int h = height ?? tiles.TileSize;
        if (h < 1) throw new AnyResException($"--height {h}: must be at least 1");
        return CanvasView.Panorama(h, period);
    }
}
