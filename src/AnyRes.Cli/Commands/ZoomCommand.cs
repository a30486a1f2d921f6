using System.CommandLine;
using System.Diagnostics;
using AnyRes.Core;
using AnyRes.Synthesis;

namespace AnyRes.Cli.Commands;

public static class ZoomCommand
{
    public static Command Create()
    {
        var o = new RenderCliOptions();
        var seed = new Option<uint>("--seed") { Description = "Seed of the latent", DefaultValueFactory = _ => 0u };
        var center = new Option<string>("--center") { Description = "x,y: the point zoomed into, as fractions of the frame; it stays put on screen", DefaultValueFactory = _ => "0.5,0.5" };
        var from = new Option<double>("--from") { Description = "First zoom (1 = the whole frame)", DefaultValueFactory = _ => 1.0 };
        var to = new Option<double>("--to") { Description = "Last zoom", DefaultValueFactory = _ => 16.0 };
        var frames = new Option<int>("--frames") { Description = "Number of frames", DefaultValueFactory = _ => 120 };
        var fps = new Option<double>("--fps") { Description = "Frames per second of the GIF", DefaultValueFactory = _ => 25.0 };
        var size = new Option<string?>("--size") { Description = "Frame WxH (default: the model's own size)" };
        var output = new Option<string>("--out") { Description = "zoom.gif for an animated GIF, otherwise a folder of frameNNNN.png", Required = true };
        var command = new Command("zoom", "Render a continuous zoom into a generated image: every frame is rendered by the model at its own scale (no upscaling).")
        {
            o.Network, seed, center, from, to, frames, fps, size, o.Trunc, o.TruncCutoff, o.Class, o.TileBatch, o.MaxPixels, output,
        };
        command.SetAction(CliCommon.Action(result =>
        {
            var c = GenerateCommand.ParseNumbers(result.GetValue(center)!, 2, "--center");
            if (!(c[0] is >= 0 and <= 1 && c[1] is >= 0 and <= 1)) throw new AnyResException($"--center {result.GetValue(center)}: expected a point of the frame (fractions from 0 to 1)");
            if (result.GetValue(frames) < 1) throw new AnyResException("--frames must be at least 1");
            var watch = Stopwatch.StartNew();
            var tiles = o.LoadNetwork(result);
            var (w, h) = result.GetValue(size) is string s ? GenerateCommand.ParseSize(s) : (tiles.TileSize, tiles.TileSize);
            var path = new ZoomPath(w, h, result.GetValue(from), result.GetValue(to), result.GetValue(frames), c[0], c[1]);
            using var ws = o.Map(result, tiles, result.GetValue(seed));
            int frame = 1;
            var options = o.RenderOptions(result, "") with
            {
                Progress = (done, total) => Console.Error.Write($"\rframe {frame}/{path.Frames} (zoom {path.ZoomAt(frame - 1):0.00}): tile {done}/{total}   "),
            };
            try { Rendering.RenderZoom(tiles, ws, path, result.GetValue(output)!, result.GetValue(fps), options, (done, _) => frame = done + 1); }
            finally { Console.Error.WriteLine(); }   // ends the progress line, so an error starts its own
            Console.WriteLine($"{result.GetValue(output)}  ({path.Frames} frames {w}x{h}, zoom {path.From}→{path.To}, {watch.Elapsed.TotalSeconds:F1} s)");
            return 0;
        }));
        return command;
    }
}
