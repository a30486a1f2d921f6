using System.Diagnostics;
using System.Globalization;
using AnyRes.Core;
using AnyRes.Data;
using AnyRes.Features;
using AnyRes.Metrics;
using AnyRes.Networks;
using AnyRes.Synthesis;
using AnyRes.Training;
using TorchSharp;

namespace AnyRes.Bench;

/// <summary>
/// Flat memory on long runs (issue 23 item 3): resident memory sampled along a tiny stage-2 training run, a render of many
/// tiles and a metric pass of many samples; after warm-up (the first tenth of each) each may grow at most 5 %. Prints the
/// sampled curves as CSV lines (run,x,rss_mib) after the summary.
/// Usage: memory [--iters 2000] [--tiles 5000] [--samples 10000]
/// </summary>
static class MemoryBench
{
    static long Rss()
    {
        GC.Collect();
        using var p = Process.GetCurrentProcess();
        return p.WorkingSet64;
    }

    static double MiB(long bytes) => bytes / (double)(1L << 20);

    public static int Run(string[] args)
    {
        string Arg(string name, string fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;
        int iters = int.Parse(Arg("--iters", "2000")), tiles = int.Parse(Arg("--tiles", "5000")), samples = int.Parse(Arg("--samples", "10000"));
        var root = Path.Combine(Path.GetTempPath(), $"anyres-memorybench-{Environment.ProcessId}");
        var o = TrainingOptions.Preset("tiny", TrainingMode.Patch);
        int p = o.Resolution;
        string lr = Path.Combine(root, "lr"), hr = Path.Combine(root, "hr");
        SynthImages.WriteSet(lr, 16, p, 2 * p, 1);
        SynthImages.WriteSet(hr, 8, 4 * p, 8 * p, 2);
        var teacher = Path.Combine(root, "teacher.safetensors");
        using (var nets = TrainingNetworks.Fresh(o with { TrainingMode = TrainingMode.Global, Data = lr }, torch.CPU))
            NetworkCheckpoint.Save(teacher, nets.G, nets.G_ema, nets.D);

        var curves = new List<(string Name, double[] X, double[] Mib)>();
        var lines = new List<string>();
        void Report(string name, string unit, List<(double X, long Rss)> points, double warmX)
        {
            int warm = points.FindIndex(q => q.X >= warmX);
            long atWarm = points[warm].Rss, peakAfter = points.Skip(warm).Max(q => q.Rss), end = points[^1].Rss;
            double growth = peakAfter / (double)atWarm - 1;
            var line = string.Create(CultureInfo.InvariantCulture,
                $"{name}: RSS {MiB(atWarm):0} MiB after warm-up ({warmX:0} {unit}), peak after it {MiB(peakAfter):0} MiB, at the end {MiB(end):0} MiB over {points[^1].X:0} {unit}: growth {growth * 100:+0.0;-0.0} % {(growth <= 0.05 ? "(within 5 %)" : "(OVER 5 %)")}");
            Console.WriteLine(line);
            lines.Add(line);
            curves.Add((name, points.Select(q => q.X).ToArray(), points.Select(q => MiB(q.Rss)).ToArray()));
        }

        // 1. Training: a tiny stage-2 run, RSS every 50 iterations.
        var clock = Stopwatch.StartNew();
        var trainPoints = new List<(double, long)>();
        using (var run = TrainingRun.Start(o with { Data = lr, DataHr = hr, Teacher = teacher, Outdir = Path.Combine(root, "runs"), Kimg = 1e6, Tick = 1e6, Snap = 1_000_000 }, torch.CPU, _ => { }))
        {
            trainPoints.Add((0, Rss()));
            for (int i = 1; i <= iters; i++)
            {
                run.Trainer.Step();
                if (i % 50 == 0) trainPoints.Add((i, Rss()));
            }
        }
        Report($"train (tiny stage 2, {clock.Elapsed.TotalMinutes:0.0} min)", "iterations", trainPoints, iters / 10.0);

        // 2. Rendering: one canvas of `tiles` p×p tiles streamed to a PNG, RSS every 250 tiles.
        clock.Restart();
        var renderer = GeneratorTiles.Load(teacher, torch.CPU);
        using var ws = renderer.Map(1);
        int columns = (int)Math.Ceiling(Math.Sqrt(tiles * 2.0)), rows = (int)Math.Ceiling(tiles / (double)columns);
        var renderPoints = new List<(double, long)> { (0, Rss()) };
        int nextSample = 250;
        Rendering.RenderPng(renderer, ws, CanvasView.FullFrame(columns * p, rows * p), Path.Combine(root, "render.png"), new RenderOptions
        {
            Progress = (done, total) => { if (done >= nextSample || done == total) { renderPoints.Add((done, Rss())); nextSample += 250; } },
        });
        Report($"render ({columns}x{rows} tiles of {p} px, {clock.Elapsed.TotalMinutes:0.0} min)", "tiles", renderPoints, tiles / 10.0);

        // 3. Metrics: fd-full{p} over `samples` generated images (and the reals), RSS every 500 samples.
        clock.Restart();
        var detector = FeatureExtractors.Create("resnet18", null, torch.CPU);
        var source = GeneratorMetricSource.Load(teacher, torch.CPU, upsampled: false);
        using var lowRes = ImageSource.OpenNonEmpty(lr);
        var metricPoints = new List<(double, long)> { (0, Rss()) };
        long nextMetric = 500;
        var runner = new MetricRunner(detector, new MetricOptions { Num = samples, Batch = 16 }, lowRes, null)
        {
            Progress = (_, phase, done, total) => { if (phase == "fakes" && (done >= nextMetric || done == total)) { metricPoints.Add((done, Rss())); nextMetric += 500; } },
        };
        runner.Run(source, [MetricSpec.Parse($"fd-full{p}")]);
        Report($"metrics (fd-full{p}, {clock.Elapsed.TotalMinutes:0.0} min)", "samples", metricPoints, samples / 10.0);

        foreach (var (name, x, mib) in curves)
            for (int i = 0; i < x.Length; i++) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name.Split(' ')[0]},{x[i]:0},{mib[i]:0.0}"));
        Directory.Delete(root, recursive: true);
        return lines.All(l => l.Contains("(within 5 %)")) ? 0 : 1;
    }
}
