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
        var command = new Command("synth", "Write the built-in dataset: deterministic PNGs at varied native sizes with structure at every scale (fractal terrain, colour maps, sharp shapes, fine texture).")
        {
            outDir, count, minSize, maxSize, seed, classes,
        };
        command.SetAction(CliCommon.Action(result =>
        {
            var watch = Stopwatch.StartNew();
            var paths = SynthImages.WriteSet(result.GetValue(outDir)!, result.GetValue(count), result.GetValue(minSize), result.GetValue(maxSize), result.GetValue(seed), result.GetValue(classes));
            int k = result.GetValue(classes);
            Console.WriteLine($"wrote {paths.Count} images{(k > 0 ? $" in {k} class folders" : "")} to {Path.GetFullPath(result.GetValue(outDir)!)} in {watch.Elapsed.TotalSeconds:F1} s");
            return 0;
        }));
        return command;
    }
}
