using System.CommandLine;
using System.Diagnostics;
using AnyRes.Data;

namespace AnyRes.Cli.Commands;

public static class DatasetSynthCommand
{
    public static Command Create()
    {
        var outDir = new Option<string>("--out") { Description = "Folder to write the PNGs into", Required = true };
        var count = new Option<int>("--count") { Description = "Number of images", DefaultValueFactory = _ => 64 };
        var minSize = new Option<int>("--min-size") { Description = "Smallest width/height in pixels", DefaultValueFactory = _ => 64 };
        var maxSize = new Option<int>("--max-size") { Description = "Largest width/height in pixels", DefaultValueFactory = _ => 512 };
        var seed = new Option<ulong>("--seed") { Description = "Random seed (same seed = same images)", DefaultValueFactory = _ => 0UL };
        var classes = new Option<int>("--classes") { Description = "Write a labelled set for --cond: one folder per class (00-earth-discs, 01-fire-boxes, ...), each class with its own palette and kind of shape; image i is of class i mod N (0 = unlabelled)", DefaultValueFactory = _ => 0 };
        var panorama = new Option<bool>("--panorama") { Description = "Write 360° panoramas for train --panorama: height drawn in --min-size..--max-size, width = height·360/fov, the right edge continuing into the left" };
        var fov = new Option<int>("--fov") { Description = "With --panorama: degrees one frame (height × height) spans", DefaultValueFactory = _ => 60 };
        var command = new Command("synth", "Write the built-in dataset: deterministic PNGs at varied native sizes with structure at every scale (fractal terrain, colour maps, sharp shapes, fine texture).")
        {
            outDir, count, minSize, maxSize, seed, classes, panorama, fov,
        };
        command.SetAction(CliCommon.Action(result =>
        {
            var watch = Stopwatch.StartNew();
            int degrees = result.GetValue(fov);
            if (degrees < 1 || degrees > 360) throw new Core.AnyResException($"--fov {degrees}: must be 1..360 degrees");
            double? turn = result.GetValue(panorama) ? 360.0 / degrees : null;
            var paths = SynthImages.WriteSet(result.GetValue(outDir)!, result.GetValue(count), result.GetValue(minSize), result.GetValue(maxSize), result.GetValue(seed), result.GetValue(classes), turn);
            int k = result.GetValue(classes);
            Console.WriteLine($"wrote {paths.Count} images{(k > 0 ? $" in {k} class folders" : "")} to {Path.GetFullPath(result.GetValue(outDir)!)} in {watch.Elapsed.TotalSeconds:F1} s");
            return 0;
        }));
        return command;
    }
}
