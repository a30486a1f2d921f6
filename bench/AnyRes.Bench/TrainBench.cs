using System.Diagnostics;
using System.Globalization;
using AnyRes.Core;
using AnyRes.Data;
using AnyRes.Networks;
using AnyRes.Training;
using TorchSharp;

namespace AnyRes.Bench;

/// <summary>
/// One stage-2 iteration (Gmain with the teacher + Dmain, lazy R1 every 16th) at batch 4, timed over --iters iterations after
/// --warmup, for the tiny preset and SG3-T 256. Prints the median and mean seconds per iteration, the per-phase medians and the
/// peak RSS. Usage: train [--config tiny|sg3t256|all] [--iters 20] [--warmup 2] [--threads 2] [--recompute true|false]
/// </summary>
public static class TrainBench
{
    public static int Run(string[] args)
    {
        NativeSettings.PreferHeap(HeapMode.Release);   // as `anyres train` (ANYRES_HEAP=reuse measures the other mode)
        string config = Arg(args, "--config", "all");
        int iters = int.Parse(Arg(args, "--iters", "20"), CultureInfo.InvariantCulture);
        int warmup = int.Parse(Arg(args, "--warmup", "2"), CultureInfo.InvariantCulture);
        torch.set_num_threads(int.Parse(Arg(args, "--threads", "2"), CultureInfo.InvariantCulture));
        bool recompute = bool.Parse(Arg(args, "--recompute", "true"));
        foreach (var name in config == "all" ? new[] { "tiny", "sg3t256" } : new[] { config })
            Measure(name, iters, warmup, recompute);
        return 0;
    }

    static void Measure(string name, int iters, int warmup, bool recompute)
    {
        var root = Path.Combine(Path.GetTempPath(), $"anyres-trainbench-{Environment.ProcessId}-{name}");
        var baseOptions = name switch
        {
            "tiny" => TrainingOptions.Preset("tiny", TrainingMode.Patch),
            "sg3t256" => TrainingOptions.Preset("paper", TrainingMode.Patch) with { Gpus = 1, BatchGpu = 4, Workers = 2 },
            _ => throw new ArgumentException($"unknown config {name}"),
        };
        int p = baseOptions.Resolution;
        string lr = Path.Combine(root, "lr"), hr = Path.Combine(root, "hr");
        if (!Directory.Exists(lr)) SynthImages.WriteSet(lr, 8, p, p + p / 4, 1);
        if (!Directory.Exists(hr)) SynthImages.WriteSet(hr, 4, 4 * p, 8 * p, 2);

        // A stage-1 checkpoint of the same configuration as the teacher (random weights: speed does not depend on them).
        var stage1Options = baseOptions with { TrainingMode = TrainingMode.Global, Data = lr, Teacher = null };
        var teacherPath = Path.Combine(root, "teacher.safetensors");
        using (var nets = TrainingNetworks.Fresh(stage1Options, torch.CPU))
            NetworkCheckpoint.Save(teacherPath, nets.G, nets.G_ema, nets.D);

        var options = baseOptions with { Batch = 4, Data = lr, DataHr = hr, Teacher = teacherPath, Outdir = Path.Combine(root, "runs"), Kimg = 1e6, Snap = 1_000_000, Tick = 1e6, Recompute = recompute };
        using var run = TrainingRun.Start(options, torch.CPU, _ => { });
        var seconds = new List<double>();
        var cpuSeconds = new List<double>();   // process CPU time: a steadier comparison than wall time on a shared machine
        var phases = new Dictionary<string, List<double>>();
        for (int i = 0; i < warmup + iters; i++)
        {
            run.Trainer.Stats.Clear();
            var clock = Stopwatch.StartNew();
            var cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
            run.Trainer.Step();
            if (i < warmup) continue;
            seconds.Add(clock.Elapsed.TotalSeconds);
            cpuSeconds.Add((Process.GetCurrentProcess().TotalProcessorTime - cpuStart).TotalSeconds);
            foreach (var (k, e) in run.Trainer.Stats.Entries.Where(kv => kv.Key.StartsWith("Timing/")))
                (phases.TryGetValue(k, out var l) ? l : phases[k] = new()).Add(e.Sum);
        }
        using var process = Process.GetCurrentProcess();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"train {name}: stage-2 iteration, batch {options.Batch}, {p}px, {torch.get_num_threads()} threads: median {Median(seconds):0.000} s, mean {seconds.Average():0.000} s over {iters} (after {warmup} warm-up), CPU time median {Median(cpuSeconds):0.000} s; recompute {recompute}; peak RSS {process.PeakWorkingSet64 / (double)(1L << 30):0.00} GiB; heap mode {NativeSettings.Heap?.ToString() ?? "glibc default"}"));
        foreach (var (k, l) in phases.OrderBy(kv => kv.Key))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {k,-14} median {Median(l):0.000} s ({l.Count} iterations)"));
        Directory.Delete(root, recursive: true);
    }

    static double Median(List<double> v)
    {
        var s = v.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    static string Arg(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
