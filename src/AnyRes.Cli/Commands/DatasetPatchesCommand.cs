using System.CommandLine;
using System.Globalization;
using AnyRes.Core;
using AnyRes.Data;

namespace AnyRes.Cli.Commands;

public static class DatasetPatchesCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("path") { Description = "Image folder (searched recursively) or .zip" };
        var size = new Option<int>("--size") { Description = "Patch size p", DefaultValueFactory = _ => 256 };
        var count = new Option<int>("--count") { Description = "Number of patches", DefaultValueFactory = _ => 32 };
        var outFile = new Option<string>("--out") { Description = "Contact sheet to write (PNG)", DefaultValueFactory = _ => "grid.png" };
        var scaleMax = new Option<double>("--scale-max") { Description = "Largest scale p/N: the smallest virtual size is p/scale-max", DefaultValueFactory = _ => 1.0 };
        var scaleMin = new Option<double?>("--scale-min") { Description = "Smallest scale: the largest virtual size is p/scale-min (default: each image's native side)" };
        var seed = new Option<ulong>("--seed") { Description = "Random seed", DefaultValueFactory = _ => 0UL };
        var command = new Command("patches", "Write a contact sheet of patches sampled as in patch training, each labelled with its zoom k = N/p.")
        {
            path, size, count, outFile, scaleMax, scaleMin, seed,
        };
        command.SetAction(CliCommon.Action(result =>
        {
            int n = result.GetValue(count);
            if (n < 1) throw new AnyResException($"--count must be positive, got {n}");
            var output = result.GetValue(outFile)!;
            using var source = ImageSource.OpenNonEmpty(result.GetValue(path)!);
            var dataset = new PatchDataset(source, new PatchDatasetOptions
            {
                Size = result.GetValue(size), ScaleMax = result.GetValue(scaleMax), ScaleMin = result.GetValue(scaleMin),
            });
            var tiles = new (RgbImage, string)[n];
            ulong s = result.GetValue(seed);
            Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
            {
                var rng = new SampleRng(s, i, 0);
                var sample = dataset.Get(rng.Int(0, dataset.Count - 1), rng);
                tiles[i] = (sample.Image, "k=" + sample.Zoom.ToString("0.00", CultureInfo.InvariantCulture));
            });
            var sheet = ContactSheet.Compose(tiles, (int)Math.Ceiling(Math.Sqrt(n)));
            AtomicFile.WriteAllBytes(output, SynthImages.EncodePng(sheet));
            Console.WriteLine($"wrote {n} patches of {dataset.Options.Size} px from {dataset.Images.Count} images to {Path.GetFullPath(output)}");
            return 0;
        }));
        return command;
    }
}
