using System.CommandLine;
using System.Globalization;
using AnyRes.Core;
using AnyRes.Data;

namespace AnyRes.Cli.Commands;

public static class DatasetInspectCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("path") { Description = "Image folder (searched recursively) or .zip" };
        var size = new Option<int>("--size") { Description = "Patch size p the data will be trained at", DefaultValueFactory = _ => 256 };
        var verify = new Option<bool>("--verify") { Description = "Decode every image fully to find corrupt data (false: read headers only)", DefaultValueFactory = _ => true };
        var cond = new Option<bool>("--cond") { Description = "Read the class labels as train --cond does (dataset.json, else one folder per class), report any mismatch, and count the images, short-side percentiles and short-side histogram per class" };
        var command = new Command("inspect", "Count the images, show the resolution histogram and short-side percentiles, list unreadable files with the reason, and print the patch flags the data implies.")
        {
            path, size, verify, cond,
        };
        command.SetAction(CliCommon.Action(result => Run(result.GetValue(path)!, result.GetValue(size), result.GetValue(verify), result.GetValue(cond))));
        return command;
    }

    static int Run(string path, int p, bool verify, bool cond)
    {
        if (p < 1) throw new AnyResException($"--size must be positive, got {p}");
        using var source = ImageSource.Open(path);
        var bad = source.Bad.ToList();
        var images = source.Images.ToList();
        if (verify)
        {
            var failures = new string?[images.Count];
            Parallel.For(0, images.Count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
            {
                try { source.Decode(images[i], eighths: 1); }
                catch (AnyResException e) { failures[i] = e.Message; }
            });
            for (int i = images.Count - 1; i >= 0; i--)
                if (failures[i] is { } message)
                {
                    var name = source.DisplayName(images[i].Path);
                    bad.Add(new BadImage(images[i].Path, message.StartsWith(name + ": ") ? message[(name.Length + 2)..] : message));
                    images.RemoveAt(i);
                }
            bad.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        }

        Console.WriteLine($"source      {source.Location}{(source.IsZip ? " (zip)" : "")}");
        Console.WriteLine($"images      {images.Count} readable, {bad.Count} unreadable, {source.IgnoredFiles} other files ignored");
        foreach (var b in bad) Console.WriteLine($"unreadable  {source.DisplayName(b.Path)}: {b.Reason}");
        if (images.Count == 0)
        {
            Console.Error.WriteLine($"error: {path}: no readable images");
            return CliCommon.UserError;
        }

        if (cond) PrintClasses(ClassLabels.Read(source), images);
        var shortSides = images.Select(i => i.MinSide).Order().ToArray();
        int largest = images.Max(i => Math.Max(i.Width, i.Height));
        Console.WriteLine("short side  histogram");
        PrintHistogram(shortSides, "  ");
        var pct = new[] { 0, 5, 25, 50, 75, 95, 100 }.Select(q => $"p{q}={Percentile(shortSides, q)}");
        Console.WriteLine($"short side  {string.Join(" ", pct)}  (long side up to {largest})");

        int tooSmall = shortSides.Count(s => s < p);
        if (tooSmall > 0) Console.WriteLine($"note        {tooSmall} images have a short side below p = {p}: excluded from the LR set unless upsampling is allowed");
        var usable = shortSides.Where(s => s >= p).ToArray();
        if (usable.Length == 0)
        {
            Console.WriteLine($"flags       none: no image reaches p = {p}; use a smaller --size");
            return 0;
        }
        // Rounded up at 4 decimals: rounding down would put the smallest virtual size p/scale-max above the smallest side and exclude that image.
        double scaleMax = Math.Ceiling((double)p / usable[0] * 1e4) / 1e4;
        int mappingMax = (int)Math.Ceiling((double)largest / p);
        Console.WriteLine($"flags       --size {p} --scale-max {scaleMax.ToString("0.####", CultureInfo.InvariantCulture)} --scale-mapping-max {mappingMax}");
        Console.WriteLine($"            (scale-max = p / smallest side {usable[0]}; scale-mapping-max = largest side {largest} / p, rounded up)");
        return 0;
    }

    static void PrintClasses(ClassLabels labels, IReadOnlyList<ImageEntry> images)
    {
        Console.WriteLine($"classes     {labels.Count}");
        for (int k = 0; k < labels.Count; k++)
        {
            var sides = images.Where(i => labels.Of(i.Path) == k).Select(i => i.MinSide).Order().ToArray();
            var spread = sides.Length == 0 ? "" : $"  short side p5={Percentile(sides, 5)} p50={Percentile(sides, 50)} p95={Percentile(sides, 95)}";
            Console.WriteLine($"  {k,3} {labels.Names[k],-24} {sides.Length,7} images{spread}");
            if (sides.Length > 0) PrintHistogram(sides, "      ");
        }
    }

    /// <summary>Counts of short sides in octave bins (empty bins left out), each with a bar scaled to the fullest bin.</summary>
    static void PrintHistogram(int[] shortSides, string indent)
    {
        int[] edges = [0, 64, 128, 256, 512, 1024, 2048, 4096, 8192, int.MaxValue];
        int most = Enumerable.Range(0, edges.Length - 1).Max(b => shortSides.Count(s => s >= edges[b] && s < edges[b + 1]));
        for (int b = 0; b < edges.Length - 1; b++)
        {
            int n = shortSides.Count(s => s >= edges[b] && s < edges[b + 1]);
            if (n == 0) continue;
            var label = edges[b + 1] == int.MaxValue ? $">= {edges[b]}" : $"{edges[b]}-{edges[b + 1] - 1}";
            Console.WriteLine($"{indent}{label,11} {n,7}  {new string('#', Math.Max(1, 40 * n / most))}");
        }
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    static int Percentile(int[] sorted, int q) => sorted[Math.Clamp((int)Math.Ceiling(q / 100.0 * sorted.Length) - 1, 0, sorted.Length - 1)];
}
