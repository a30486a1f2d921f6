using System.Diagnostics;
using AnyRes.Networks;
using TorchSharp;
using static TorchSharp.torch;
using Generator = AnyRes.Networks.Generator;

namespace AnyRes.Bench;

/// <summary>
/// Generator forward time and memory: <c>generator [--cfg stylegan3-t] [--size 256] [--tiny] [--batch 4] [--iters 10]
/// [--warmup 1] [--patch] [--threads 2] [--rss-iters 0]</c>. Random init (seed 0), no autograd, identity transforms; prints
/// the median and every time, and peak/current RSS. --rss-iters N runs N more forwards and reports RSS every N/10.
/// </summary>
public static class GeneratorBench
{
    public static int Run(string[] args)
    {
        string Opt(string name, string fallback) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
        string cfg = Opt("--cfg", "stylegan3-t");
        int size = int.Parse(Opt("--size", "256")), batch = int.Parse(Opt("--batch", "4")), iters = int.Parse(Opt("--iters", "10"));
        int warmup = int.Parse(Opt("--warmup", "1")), threads = int.Parse(Opt("--threads", "2")), rssIters = int.Parse(Opt("--rss-iters", "0"));
        torch.set_num_threads(threads);

        var options = args.Contains("--tiny") ? GeneratorOptions.Tiny(size) : GeneratorOptions.Preset(cfg, size);
        if (args.Contains("--patch")) options = options with { TrainingMode = TrainingMode.Patch };
        manual_seed(0);
        using var G = new Generator(options);
        G.eval();
        var z = randn(batch, G.ZDim);

        double Forward()
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var watch = Stopwatch.StartNew();
            var img = G.forward(z, null);
            img.sum().item<float>();
            return watch.Elapsed.TotalSeconds;
        }

        for (int i = 0; i < warmup; i++) Forward();
        var times = Enumerable.Range(0, iters).Select(_ => Forward()).ToArray();
        var sorted = times.OrderBy(t => t).ToArray();
        double median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        long parameters = G.parameters().Sum(p => p.numel());
        Console.WriteLine($"generator {(args.Contains("--tiny") ? "tiny" : cfg)} {size}px ({parameters / 1e6:F2} M params, channel_max {options.ChannelMax}), batch {batch}, {threads} threads: " +
                          $"median {median:F3} s over {iters} (min {sorted[0]:F3}, max {sorted[^1]:F3}); all: {string.Join(" ", times.Select(t => t.ToString("F3")))}");
        Console.WriteLine($"memory: peak RSS {Rss("VmHWM") / 1024.0:F0} MiB, current RSS {Rss("VmRSS") / 1024.0:F0} MiB");

        if (rssIters > 0)
        {
            var samples = new List<string>();
            for (int i = 1; i <= rssIters; i++)
            {
                Forward();
                if (i % Math.Max(1, rssIters / 10) == 0) samples.Add($"{i}:{Rss("VmRSS") / 1024.0:F0}");
            }
            Console.WriteLine($"RSS (MiB) after forwards: {string.Join(" ", samples)}; peak {Rss("VmHWM") / 1024.0:F0} MiB");
        }
        return 0;
    }

    /// <summary>A /proc/self/status entry in KiB (Linux).</summary>
    static long Rss(string key)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(key + ":")) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        return -1;
    }
}
