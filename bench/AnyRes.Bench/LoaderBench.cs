using System.Diagnostics;
using AnyRes.Data;

namespace AnyRes.Bench;

/// <summary>
/// Patches per second of the HR patch loader: <c>loader PATH [--size 256] [--workers 2] [--batch 32] [--batches 20]
/// [--scale-max 1] [--cache-mb 1024] [--warmup 2] [--exact]</c> (--exact turns off DCT-scaled JPEG decoding; --cache-mb keeps decoded images in memory). The first --warmup batches are not timed.
/// </summary>
public static class LoaderBench
{
    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith("--")) { Console.Error.WriteLine("usage: loader PATH [--size 256] [--workers 2] [--batch 32] [--batches 20] [--scale-max 1] [--cache-mb 1024] [--warmup 2] [--exact]"); return 2; }
        string Opt(string name, string fallback) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
        int size = int.Parse(Opt("--size", "256")), workers = int.Parse(Opt("--workers", "2")), batch = int.Parse(Opt("--batch", "32")), batches = int.Parse(Opt("--batches", "20"));
        double scaleMax = double.Parse(Opt("--scale-max", "1"), System.Globalization.CultureInfo.InvariantCulture);
        bool exact = args.Contains("--exact");
        long cacheMb = long.Parse(Opt("--cache-mb", "1024"));

        using var source = ImageSource.OpenNonEmpty(args[0]);
        source.DecodeCacheBytes = cacheMb << 20;
        var hr = new PatchDataset(source, new PatchDatasetOptions { Size = size, ScaleMax = scaleMax, FastJpeg = !exact });
        using var loader = new BatchLoader(null, hr, new LoaderOptions { BatchSize = batch, Workers = workers, Prefetch = 2 * workers, Seed = 1 });
        int warmup = int.Parse(Opt("--warmup", "2"));
        for (int i = 0; i < warmup; i++) loader.Next().Images.Dispose();
        var watch = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        for (int i = 0; i < batches; i++)
        {
            var b = loader.Next();
            b.Images.Dispose(); b.Transforms.Dispose();
        }
        double seconds = watch.Elapsed.TotalSeconds, cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        int patches = batches * batch;
        Console.WriteLine($"loader: {patches / seconds:F1} patches/s of {size}x{size} ({patches} patches in {seconds:F2} s, {cpuSeconds / seconds:F2} cores busy, {patches / cpuSeconds:F1} patches per CPU-second), " +
                          $"{hr.Images.Count} images, {workers} workers, scale-max {scaleMax}, {(exact ? "full-scale" : "DCT-scaled")} JPEG decode, decode cache {cacheMb} MB");
        return 0;
    }
}
