using AnyRes.Features;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AnyRes.Core;
using AnyRes.Data;
using AnyRes.Networks;
using TorchSharp;
using static TorchSharp.torch;

using Generator = AnyRes.Networks.Generator;

namespace AnyRes.Training;

/// <summary>
/// A run directory like the reference's (<c>runs/00000-&lt;mode&gt;-&lt;data&gt;-&lt;size&gt;-batch&lt;B&gt;-gamma&lt;γ&gt;/</c>): training_options.json,
/// stats.jsonl and a TensorBoard event file per tick, and per snapshot a sample grid (fakesKKKKKK.png), the networks
/// (network-snapshot-KKKKKK.safetensors) and <c>resume.safetensors</c> (networks, optimizer states, counters, the latent RNG,
/// the data sampler's position, the options). Every file that matters is written atomically, in that order, so a kill at any
/// moment leaves the last complete snapshot and a consistent resume file.
/// </summary>
public sealed class TrainingRun : IDisposable
{
    public const string ResumeFileName = "resume.safetensors", OptionsFileName = "training_options.json", StatsFileName = "stats.jsonl",
        ClassesFileName = "classes.json";
    const string ResumeFormat = "resume/1";

    public string RunDir { get; }
    public TrainingOptions Options { get; }
    public Trainer Trainer { get; }
    public Action<string> Log { get; set; }
    public ProgressReporter? Progress { get; set; }
    /// <summary>Stop after this many iterations of this process (tests); the stop writes a snapshot like Ctrl-C.</summary>
    public long? MaxIterations { get; set; }

    readonly Device _device;
    readonly BatchLoader _loader;
    readonly IPerceptualDistance? _perceptual;
    readonly TensorBoardWriter _events;
    readonly Stopwatch _clock = Stopwatch.StartNew();

    TrainingRun(string runDir, TrainingOptions o, Device device, TrainingNetworks nets, BatchLoader loader, IPerceptualDistance? perceptual, Action<string> log)
    {
        (RunDir, Options, _device, _loader, _perceptual, Log) = (runDir, o, device, loader, perceptual, log);
        Trainer = new Trainer(o, device, nets, loader, perceptual);
        _events = new TensorBoardWriter(runDir);
    }

    /// <summary>A new run in a fresh numbered directory under <c>Outdir</c>.</summary>
    public static TrainingRun Start(TrainingOptions o, Device device, Action<string> log)
    {
        o.Validate();
        var loader = OpenData(o, device, 0);
        TrainingNetworks? nets = null;
        try
        {
            nets = o.TrainingMode == TrainingMode.Patch ? TrainingNetworks.FromTeacher(o, device, log, loader.Labels?.Names)
                                                      : TrainingNetworks.Fresh(o, device, loader.Labels?.Count ?? 0);
            var runDir = NewRunDir(o);
            AtomicFile.WriteAllText(Path.Combine(runDir, OptionsFileName), o.ToJson());
            if (loader.Labels is { } labels)
            {
                AtomicFile.WriteAllText(Path.Combine(runDir, ClassesFileName), ClassLabels.NamesJson(labels.Names));
                log($"{labels.Count} classes: {string.Join(", ", labels.Names)}");
            }
            log($"run directory {runDir}");
            return new TrainingRun(runDir, o, device, nets, loader, Perceptual(o, nets, device), log);
        }
        catch
        {
            nets?.Dispose();   // an --outdir that cannot be written, say: nothing keeps running
            loader.Dispose();
            throw;
        }
    }

    /// <summary>Continues the run in <paramref name="runDir"/> from its resume file, bit-identically; <paramref name="adjust"/> may change the length (kimg, snapshot cadence).</summary>
    public static TrainingRun Resume(string runDir, Device device, Action<string> log, Func<TrainingOptions, TrainingOptions>? adjust = null)
    {
        var path = Path.Combine(runDir, ResumeFileName);
        var file = SafetensorsFile.Read(path);
        try
        {
            if (!file.Metadata.TryGetValue("anyres.format", out var format) || format != ResumeFormat)
                throw AnyResException.ForFile(path, $"not an AnyRes resume file (expected format {ResumeFormat})");
            var o = TrainingOptions.FromJson(Meta(file, path, "options"), path);
            if (adjust is not null) o = adjust(o);
            o.Validate();
            var G = new Generator(JsonSerializer.Deserialize<GeneratorOptions>(Meta(file, path, "G.options"), NetworkCheckpoint.Json)!);
            var G_ema = new Generator(G.Options);
            var D = new Discriminator(JsonSerializer.Deserialize<DiscriminatorOptions>(Meta(file, path, "D.options"), NetworkCheckpoint.Json)!);
            Generator? teacher = file.Metadata.TryGetValue("teacher.options", out var tj)
                ? new Generator(JsonSerializer.Deserialize<GeneratorOptions>(tj, NetworkCheckpoint.Json)!) : null;
            var modules = new List<(string, nn.Module)> { ("G.", G), ("G_ema.", G_ema), ("D.", D) };
            if (teacher is not null) modules.Add(("teacher.", teacher));
            var moduleTensors = file.Tensors.Where(kv => modules.Any(m => kv.Key.StartsWith(m.Item1))).ToDictionary(kv => kv.Key, kv => kv.Value);
            NetworkCheckpoint.LoadStrict(path, moduleTensors, modules);
            var nets = TrainingNetworks.Prepare(new TrainingNetworks { G = G, G_ema = G_ema, D = D, Teacher = teacher }, device, o.Recompute);

            var counters = JsonNode.Parse(Meta(file, path, "counters"))!.AsObject();
            var loader = OpenData(o, device, (long)counters["loader_step"]!);
            var stored = file.Metadata.GetValueOrDefault(ClassLabels.MetadataKey);
            var now = loader.Labels is { } l ? ClassLabels.NamesJson(l.Names) : null;
            if (stored != now)
            {
                loader.Dispose();
                throw AnyResException.ForFile(path, $"was trained on classes {stored ?? "(none)"}, the data now has {now ?? "(none)"}");
            }
            var run = new TrainingRun(runDir, o, device, nets, loader, Perceptual(o, nets, device), log);
            run.Trainer.OptG.Load(file.Tensors, "optG.");
            run.Trainer.OptD.Load(file.Tensors, "optD.");
            run.Trainer.RestoreLatentState(file.Tensors.TryGetValue("rng.latents", out var rng) ? rng : throw AnyResException.ForFile(path, "lacks the latent RNG state"));
            var c = run.Trainer.Counters;
            c.CurNimg = (long)counters["cur_nimg"]!;
            c.BatchIdx = (long)counters["batch_idx"]!;
            c.CurTick = (long)counters["cur_tick"]!;
            c.TickStartNimg = (long)counters["tick_start_nimg"]!;
            // A kill during a write leaves its temporary file beside the intact target; the run's folder is this process's now.
            foreach (var temp in Directory.GetFiles(runDir, ".*.tmp")) File.Delete(temp);
            AtomicFile.WriteAllText(Path.Combine(runDir, OptionsFileName), o.ToJson());
            log($"resuming {runDir} at kimg {c.CurNimg / 1000.0:0.000} (iteration {c.BatchIdx})");
            return run;
        }
        finally
        {
            foreach (var t in file.Tensors.Values) t.Dispose();
        }
    }

    static string Meta(SafetensorsFile file, string path, string key) =>
        file.Metadata.TryGetValue(key, out var v) ? v : throw AnyResException.ForFile(path, $"lacks '{key}' in its metadata");

    static BatchLoader OpenData(TrainingOptions o, Device device, long startStep)
    {
        var lrSource = ImageSource.OpenNonEmpty(o.Data!);
        var lr = new LowResDataset(lrSource, new LowResDatasetOptions { Size = o.Resolution, RandomCrop = o.RandomCrop, XFlip = o.Mirror },
            labels: o.Cond ? ClassLabels.Read(lrSource) : null);
        PatchDataset? hr = null;
        if (o.TrainingMode == TrainingMode.Patch)
        {
            var hrSource = ImageSource.OpenNonEmpty(o.DataHr!);
            hr = new PatchDataset(hrSource, new PatchDatasetOptions { Size = o.Resolution, ScaleMin = o.ScaleMin, ScaleMax = o.ScaleMax, RandomCrop = o.PatchCrop, XFlip = o.Mirror },
                labels: o.Cond ? ClassLabels.Read(hrSource) : null);
        }
        return new BatchLoader(lr, hr, new LoaderOptions
        {
            BatchSize = o.Batch, BaseProbability = hr is null ? 1 : o.BaseProbability, Seed = (ulong)o.Seed, Workers = o.Workers, StartStep = startStep,
            ClassBalanced = o.ClassBalanced,
        }, device);
    }

    static IPerceptualDistance? Perceptual(TrainingOptions o, TrainingNetworks nets, Device device) =>
        nets.Teacher is not null && o.TeacherLambda > 0 ? PerceptualDistance.Create(o.Lpips, device) : null;

    static string NewRunDir(TrainingOptions o)
    {
        AtomicFile.CreateFolder(o.Outdir);
        int next = Directory.EnumerateDirectories(o.Outdir)
            .Select(d => Path.GetFileName(d)).Select(n => n.Length >= 5 && int.TryParse(n[..5], out var id) ? id : -1)
            .DefaultIfEmpty(-1).Max() + 1;
        var dir = Path.Combine(o.Outdir, $"{next:00000}-{o.RunDescription()}");
        AtomicFile.CreateFolder(dir);
        return dir;
    }

    /// <summary>Trains until <c>Kimg</c>, cancellation (Ctrl-C) or <see cref="MaxIterations"/>; each ends with a snapshot.</summary>
    public void Run(CancellationToken cancel = default)
    {
        var c = Trainer.Counters;
        long startIterations = c.BatchIdx;
        double tickStartTime = _clock.Elapsed.TotalSeconds, maintenance = 0;
        if (c.CurNimg >= Options.Kimg * 1000)
        {
            // A finished run resumed again (say, after a kill right after its last snapshot): training once more would go past --kimg.
            Log($"the run is done at kimg {c.CurNimg / 1000.0:0.000} of {Options.Kimg}; nothing to train (resume with a larger --kimg to continue)");
            return;
        }
        Log($"training for {Options.Kimg} kimg ({Options.TrainingMode.ToString().ToLowerInvariant()} stage) on {_device}");
        while (true)
        {
            Trainer.Step();
            bool stop = cancel.IsCancellationRequested || (MaxIterations is { } max && c.BatchIdx - startIterations >= max);
            bool done = stop || c.CurNimg >= Options.Kimg * 1000;
            Progress?.Update(c.CurNimg / 1000.0, c.BatchIdx, LatestLosses());
            if (!done && c.CurTick != 0 && c.CurNimg < c.TickStartNimg + Options.Tick * 1000) continue;

            double now = _clock.Elapsed.TotalSeconds;
            using (FinalizerFence.Enter())   // the sample grid and snapshot run torch ops too
            {
                EndTick(now - tickStartTime, maintenance);
                if (done || c.CurTick % Options.Snap == 0) Snapshot();
            }
            c.CurTick++;
            c.TickStartNimg = c.CurNimg;
            tickStartTime = _clock.Elapsed.TotalSeconds;
            maintenance = tickStartTime - now;   // stats, events and snapshot writes: reported with the next tick, as the reference does
            if (done)
            {
                Progress?.Finish();
                Log(stop && c.CurNimg < Options.Kimg * 1000 ? $"stopped at kimg {c.CurNimg / 1000.0:0.000}; continue with --resume {RunDir}" : "done");
                return;
            }
        }
    }

    IReadOnlyList<(string, double)> LatestLosses()
    {
        var list = new List<(string, double)>();
        foreach (var (name, label) in new[] { ("Loss/G/loss", "G"), ("Loss/D/loss", "D"), ("Loss/G/loss_teacher_l1", "L1"), ("Loss/G/loss_teacher_lpips", "perc"), ("Loss/r1_penalty", "R1") })
            if (Trainer.Stats.Entries.TryGetValue(name, out var e)) list.Add((label, e.Last));
        return list;
    }

    /// <summary>
    /// Where the wall time of a tick went, as shares of the tick plus the previous tick's maintenance: data wait, the G, D and
    /// R1 phases, the EMA update and what the step does besides (batch to tensors, latents, stats), and snapshot/log writing.
    /// </summary>
    static string TimeShares(TickStats stats, double tickSeconds, double maintenance)
    {
        double Sum(string n) => stats.Entries.TryGetValue(n, out var e) ? e.Sum : 0;
        double total = tickSeconds + maintenance, data = Sum("Timing/data"), g = Sum("Timing/Gmain"), d = Sum("Timing/Dmain"), r1 = Sum("Timing/Dreg");
        double other = tickSeconds - data - g - d - r1;
        string Share(string label, double seconds) => string.Create(CultureInfo.InvariantCulture, $"{label} {100 * seconds / total:0}%");
        return string.Join(" ", Share("data", data), Share("G", g), Share("D", d), Share("R1", r1), Share("ema+step", other), Share("write", maintenance));
    }

    void EndTick(double tickSeconds, double maintenance)
    {
        var c = Trainer.Counters;
        var stats = Trainer.Stats;
        long tickImages = Math.Max(c.CurNimg - c.TickStartNimg, 1);
        using var process = Process.GetCurrentProcess();
        stats.Report("Progress/tick", c.CurTick);
        stats.Report("Progress/kimg", c.CurNimg / 1000.0);
        stats.Report("Timing/total_sec", _clock.Elapsed.TotalSeconds);
        stats.Report("Timing/sec_per_tick", tickSeconds);
        stats.Report("Timing/sec_per_kimg", tickSeconds / tickImages * 1000);
        stats.Report("Timing/maintenance_sec", maintenance);
        stats.Report("Timing/images_per_sec", tickImages / (tickSeconds + maintenance));
        var shares = TimeShares(stats, tickSeconds, maintenance);
        stats.Report("Resources/cpu_mem_gb", process.WorkingSet64 / (double)(1L << 30));

        var line = new JsonObject();
        foreach (var (name, e) in stats.Entries)
            line[name] = new JsonObject { ["num"] = e.Num, ["mean"] = Finite(e.Mean), ["min"] = Finite(e.Min), ["max"] = Finite(e.Max) };
        line["timestamp"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        File.AppendAllText(Path.Combine(RunDir, StatsFileName), line.ToJsonString() + "\n");
        _events.AddScalars(c.CurNimg, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0,
            stats.Entries.Where(kv => double.IsFinite(kv.Value.Mean)).Select(kv => KeyValuePair.Create(kv.Key, kv.Value.Mean)));

        string Mean(string n) => stats.Mean(n) is { } v ? v.ToString("0.000", CultureInfo.InvariantCulture) : "-";
        var msg = string.Create(CultureInfo.InvariantCulture,
            $"tick {c.CurTick,-5} kimg {c.CurNimg / 1000.0,-8:0.000} sec/tick {tickSeconds,-7:0.0} sec/kimg {tickSeconds / tickImages * 1000,-8:0.00} cpumem {process.WorkingSet64 / (double)(1L << 30):0.00}")
            + $"  G {Mean("Loss/G/loss")} D {Mean("Loss/D/loss")} R1 {Mean("Loss/r1_penalty")}"
            + (stats.Entries.ContainsKey("Loss/G/loss_teacher_l1") ? $" L1 {Mean("Loss/G/loss_teacher_l1")} perc {Mean("Loss/G/loss_teacher_lpips")}" : "")
            + (Options.TrainingMode == TrainingMode.Patch ? $" zoom {stats.Entries.GetValueOrDefault("Zoom/min")?.Min:0.00}..{stats.Entries.GetValueOrDefault("Zoom/max")?.Max:0.00}" : "")
            + string.Create(CultureInfo.InvariantCulture, $"\n  img/s {tickImages / (tickSeconds + maintenance):0.00}  {shares}");
        if (Progress is not null) Progress.Message(msg); else Log(msg);
        stats.Clear();
    }

    static JsonNode? Finite(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    /// <summary>Sample grid, network snapshot, resume file (each atomic, in this order), then old snapshots beyond --keep.</summary>
    public void Snapshot()
    {
        var c = Trainer.Counters;
        var nets = Trainer.Nets;
        // The reference names snapshots by whole kimg; runs with fractional ticks (tiny) add the fraction so none collide.
        var kimg = Options.Tick >= 1 ? (c.CurNimg / 1000).ToString("000000", CultureInfo.InvariantCulture)
                                     : (c.CurNimg / 1000.0).ToString("000000.000", CultureInfo.InvariantCulture);
        using (var grid = SampleGrid.Render(nets.G_ema, nets.G.HasScaleMapping ? 2 : 3, _device))
            SampleGrid.WritePng(Path.Combine(RunDir, $"fakes{kimg}.png"), grid);
        var snapshot = Path.Combine(RunDir, $"network-snapshot-{kimg}.safetensors");
        NetworkCheckpoint.Save(snapshot, nets.G, nets.G_ema, nets.D, new Dictionary<string, string>
        {
            ["anyres.training_options"] = Options.ToJson(), ["anyres.nimg"] = c.CurNimg.ToString(CultureInfo.InvariantCulture),
        }.Concat(ClassMetadata()).ToDictionary());
        SaveResume();
        PruneSnapshots();
        var text = $"snapshot {Path.GetFileName(snapshot)}";
        if (Progress is not null) Progress.Message(text); else Log(text);
    }

    void SaveResume()
    {
        var c = Trainer.Counters;
        var nets = Trainer.Nets;
        using var scope = torch.NewDisposeScope();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        void Add(string prefix, nn.Module m) => tensors.AddRange(m.state_dict().Select(kv => KeyValuePair.Create(prefix + kv.Key, kv.Value)));
        Add("G.", nets.G);
        Add("G_ema.", nets.G_ema);
        Add("D.", nets.D);
        if (nets.Teacher is not null) Add("teacher.", nets.Teacher);
        tensors.AddRange(Trainer.OptG.State("optG."));
        tensors.AddRange(Trainer.OptD.State("optD."));
        tensors.Add(KeyValuePair.Create("rng.latents", Trainer.LatentState()));
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["anyres.format"] = ResumeFormat,
            ["options"] = Options.ToJson(),
            ["G.options"] = TrainingNetworks.OptionsJson(nets.G),
            ["D.options"] = TrainingNetworks.OptionsJson(nets.D),
            ["counters"] = new JsonObject
            {
                ["cur_nimg"] = c.CurNimg, ["batch_idx"] = c.BatchIdx, ["cur_tick"] = c.CurTick + 1, ["tick_start_nimg"] = c.CurNimg,
                ["loader_step"] = Trainer.LoaderStep,
            }.ToJsonString(),
        };
        if (nets.Teacher is not null) metadata["teacher.options"] = TrainingNetworks.OptionsJson(nets.Teacher);
        foreach (var (k, v) in ClassMetadata()) metadata[k] = v;
        SafetensorsFile.Write(Path.Combine(RunDir, ResumeFileName), tensors, metadata);
    }

    /// <summary>The class table of a conditional run, for checkpoints (rendering by class name) and the resume file.</summary>
    IEnumerable<KeyValuePair<string, string>> ClassMetadata() =>
        _loader.Labels is { } labels ? [KeyValuePair.Create(ClassLabels.MetadataKey, ClassLabels.NamesJson(labels.Names))] : [];

    void PruneSnapshots()
    {
        if (Options.Keep <= 0) return;
        var old = Directory.GetFiles(RunDir, "network-snapshot-*.safetensors").OrderDescending(StringComparer.Ordinal).Skip(Options.Keep);
        foreach (var f in old) File.Delete(f);
    }

    public void Dispose()
    {
        Trainer.Dispose();
        Trainer.Nets.Dispose();
        _loader.Dispose();
        _events.Dispose();
        (_perceptual as IDisposable)?.Dispose();
    }
}
