using AnyRes.Networks;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AnyRes.Core;
using AnyRes.Data;
using AnyRes.Synthesis;
using AnyRes.Training;
using TorchSharp;

namespace AnyRes.Metrics;

/// <summary>
/// The paper's central comparison at CPU scale (issue 16, docs/reproduce.md), as phases that each leave their result in the
/// out folder: <c>split</c> (train/held-out by content hash), <c>stage1</c> and <c>stage2</c> (training runs stopped by
/// their share of the budget), <c>metrics</c> (features of held-out reals and of both models' fakes per zoom band, saved
/// per band), <c>figure</c> and <c>report</c> (results.md). <c>reproduce.json</c> records the settings and each phase's state
/// and wall time, so the same command started again continues where it stopped — an interrupted training run resumes from
/// its last snapshot for the rest of its share — and a folder holding another run's settings is refused.
/// </summary>
public sealed class ReproduceProtocol(ReproduceSettings settings, torch.Device device, Action<string> log)
{
    public const string StateFile = "reproduce.json", ResultsFile = "results.md", FigureFile = "comparison.png";
    public static readonly string[] PhaseNames = ["split", "stage1", "stage2", "metrics", "figure", "report"];

    /// <summary>Seeds of the picture; how long between progress lines in long phases.</summary>
    static readonly uint[] FigureSeeds = [0, 1, 2];
    public static TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(60);

    readonly string _out = Path.TrimEndingDirectorySeparator(Path.GetFullPath(settings.Out));
    ReproduceState _state = new();

    string TrainDir => Path.Combine(_out, "split", "train");
    string HeldOutDir => Path.Combine(_out, "split", "held-out");
    string FeaturesDir => Path.Combine(_out, "features");
    public string ResultsPath => Path.Combine(_out, ResultsFile);

    /// <summary>Runs (or continues) every phase; returns the results.md path. Cancellation stops cleanly with <see cref="OperationCanceledException"/>.</summary>
    public string Run(CancellationToken cancel = default)
    {
        settings.Validate();
        if (!Directory.Exists(settings.Data) && !File.Exists(settings.Data)) throw AnyResException.ForFile(settings.Data, "no such file or folder");
        var data = Path.TrimEndingDirectorySeparator(Path.GetFullPath(settings.Data));
        if (_out == data || _out.StartsWith(data + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw AnyResException.ForFile(settings.Out, "is inside --data: the split's copies would become training data; choose an --out outside it");
        OpenState();
        if (_state.Phase("report").Done)
        {
            log($"{_out} already holds the finished run; results: {ResultsPath} (use another --out for a new run)");
            return ResultsPath;
        }
        Phase("split", () => Split());
        var (p, mappingMax) = CheckData();
        var stage1 = settings.Stage1From is { } from ? ReuseStage1(from) : Train("stage1", Options(TrainingMode.Global, null, mappingMax), ReproduceSettings.Stage1Share, cancel);
        var stage2 = Train("stage2", Options(TrainingMode.Patch, stage1, mappingMax), ReproduceSettings.Stage2Share, cancel);
        Phase("metrics", () => Features(stage1, stage2, p, cancel));
        Phase("figure", () => Figure(stage1, stage2, p));
        Phase("report", () => AtomicFile.WriteAllText(ResultsPath, ReproduceReport.Markdown(settings, _state, Rows(p), p, ImagesIn(TrainDir), ImagesIn(HeldOutDir))));
        log($"results: {ResultsPath}");
        return ResultsPath;
    }

    void OpenState()
    {
        var path = Path.Combine(_out, StateFile);
        var fingerprint = settings.Fingerprint();
        if (File.Exists(path))
        {
            _state = ReproduceState.Read(path);
            if (_state.Settings != fingerprint)
                throw AnyResException.ForFile(_out, $"holds a reproduce run with other settings ({_state.Settings}); rerun with those flags to continue it, or use another --out");
            log($"continuing the run in {_out}: done {string.Join(", ", PhaseNames.Where(n => _state.Phase(n).Done).DefaultIfEmpty("nothing yet"))}");
            return;
        }
        if (Directory.Exists(_out) && Directory.EnumerateFileSystemEntries(_out).Any())
            throw AnyResException.ForFile(_out, $"is not empty and holds no {StateFile}: give a new or empty --out");
        AtomicFile.CreateFolder(_out);
        _state = new ReproduceState { Settings = fingerprint, Command = settings.Command };
        foreach (var name in PhaseNames) _state.Phase(name);   // listed in order
        SaveState();
    }

    void SaveState() => AtomicFile.WriteAllText(Path.Combine(_out, StateFile), _state.ToJson());

    /// <summary>Runs a phase once, recording its wall time over all attempts; a phase interrupted before it finished runs again.</summary>
    void Phase(string name, Action body)
    {
        var phase = _state.Phase(name);
        if (phase.Done) return;
        var clock = Stopwatch.StartNew();
        log($"{name}: start");
        try
        {
            body();
            phase.Done = true;
        }
        finally
        {
            phase.Seconds += clock.Elapsed.TotalSeconds;   // an interrupted attempt's time counts too
            SaveState();
        }
        log($"{name}: done in {clock.Elapsed.TotalSeconds:0} s");
    }

    void Split()
    {
        foreach (var dir in new[] { TrainDir, HeldOutDir }) if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);   // a split cut short
        using var source = ImageSource.OpenNonEmpty(settings.Data);
        foreach (var bad in source.Bad) log($"  skipped {source.DisplayName(bad.Path)}: {bad.Reason}");
        var split = HeldOutSplit.Write(source, TrainDir, HeldOutDir);
        var lines = split.Train.Select(i => $"{i.Hash}\ttrain\t{i.Path}").Concat(split.HeldOut.Select(i => $"{i.Hash}\theld-out\t{i.Path}")).OrderBy(l => l, StringComparer.Ordinal);
        AtomicFile.WriteAllText(Path.Combine(_out, "split", "split.tsv"), "sha256\tset\tpath\n" + string.Join("\n", lines) + "\n");
        log($"  {split.Train.Count} train, {split.HeldOut.Count} held out ({DataSplit.Rule})");
    }

    static IReadOnlyList<ImageEntry> ImagesIn(string dir)
    {
        using var source = ImageSource.OpenNonEmpty(dir);
        return source.Images;
    }

    /// <summary>Refuses data the protocol cannot use before any training: p, and the largest zoom the training data holds.</summary>
    (int P, int MappingMax) CheckData()
    {
        var preset = TrainingOptions.Preset(settings.Preset, TrainingMode.Patch);
        int p = preset.Resolution;
        var train = ImagesIn(TrainDir);
        var heldOut = ImagesIn(HeldOutDir);
        if (!train.Any(i => i.MinSide >= p / preset.ScaleMax))
            throw AnyResException.ForFile(settings.Data, $"no training image has a short side of at least {p / preset.ScaleMax:0} px (p / scale-max of the {settings.Preset} preset): stage 2 has no patches");
        if (!heldOut.Any(i => i.MinSide >= p))
            throw AnyResException.ForFile(settings.Data, $"no held-out image has a short side of at least p = {p} px: nothing to measure (see {Path.Combine(_out, "split", "split.tsv")})");
        return (p, Math.Max(2, (int)Math.Ceiling(train.Max(i => Math.Max(i.Width, i.Height)) / (double)p)));
    }

    TrainingOptions Options(TrainingMode stage, string? teacher, int mappingMax)
    {
        var options = TrainingOptions.Preset(settings.Preset, stage) with
        {
            Data = TrainDir, DataHr = stage == TrainingMode.Patch ? TrainDir : null, Teacher = teacher, Outdir = Path.Combine(_out, "runs"),
            Seed = settings.Seed, Kimg = 1e6,   // stopped by time
            ScaleMappingMax = mappingMax, ScaleConditioning = settings.ScaleConditioning,
        };
        return settings.AdjustTraining?.Invoke(options) ?? options;
    }

    /// <summary>
    /// One training stage for its share of the budget (minus what earlier attempts used), resuming an interrupted run; at least
    /// one iteration and a snapshot. Returns the last network snapshot.
    /// </summary>
    string Train(string name, TrainingOptions options, double share, CancellationToken cancel)
    {
        var phase = _state.Phase(name);
        if (phase.Done) return phase.Snapshot!;
        double spent = phase.Seconds, remaining = Math.Max(0, share * settings.TotalSeconds - spent);
        var clock = Stopwatch.StartNew();
        void Say(string line) => log($"  {line}");
        using (var run = phase.RunDir is { } dir && File.Exists(Path.Combine(dir, TrainingRun.ResumeFileName))
                   ? TrainingRun.Resume(dir, device, Say)
                   : TrainingRun.Start(options, device, Say))
        {
            phase.RunDir = run.RunDir;
            SaveState();
            log($"{name}: training for {remaining / 60:0.0} min in {run.RunDir}");
            using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            budget.CancelAfter(TimeSpan.FromSeconds(remaining));
            // The heartbeat also records the time spent, so a run killed without warning continues with only the rest of its share.
            using var heartbeat = new Timer(_ =>
            {
                lock (_state) { phase.Seconds = spent + clock.Elapsed.TotalSeconds; SaveState(); }
                log(string.Create(CultureInfo.InvariantCulture, $"{name}: {phase.Seconds / 60:0.0} of {share * settings.TotalSeconds / 60:0.0} min, kimg {run.Trainer.Counters.CurNimg / 1000.0:0.000}"));
            }, null, ProgressInterval, ProgressInterval);
            run.Run(budget.Token);
            phase.Snapshot = Directory.GetFiles(run.RunDir, "network-snapshot-*.safetensors").OrderBy(f => f, StringComparer.Ordinal).LastOrDefault()
                ?? throw new AnyResException($"{run.RunDir}: the {name} run wrote no network snapshot");
        }
        lock (_state)
        {
            phase.Seconds = spent + clock.Elapsed.TotalSeconds;
            phase.Done = !cancel.IsCancellationRequested;
            SaveState();
        }
        cancel.ThrowIfCancellationRequested();
        log($"{name}: {phase.Snapshot}");
        return phase.Snapshot!;
    }

    /// <summary>
    /// Takes the finished stage 1 of another run (<see cref="ReproduceSettings.Stage1From"/>) after checking it trained on
    /// the same split with the same preset and seed; its wall time is recorded as this run's stage 1.
    /// </summary>
    string ReuseStage1(string from)
    {
        var phase = _state.Phase("stage1");
        if (phase.Done) return phase.Snapshot!;
        var statePath = Path.Combine(from, StateFile);
        if (!File.Exists(statePath)) throw AnyResException.ForFile(from, $"holds no {StateFile}: --stage1-from needs the out folder of a reproduce run");
        var source = ReproduceState.Read(statePath);
        var sourceStage1 = source.Phase("stage1");
        if (!sourceStage1.Done || sourceStage1.Snapshot is not { } snapshot)
            throw AnyResException.ForFile(from, "has not finished stage 1 yet; --stage1-from needs a run whose stage 1 is done");
        if (!settings.SharesStage1With(source.Settings))
            throw AnyResException.ForFile(from, $"was run with other data, preset or seed ({source.Settings}); its stage 1 is not this run's");
        var splitFile = Path.Combine("split", "split.tsv");
        if (!File.Exists(Path.Combine(from, splitFile)) || File.ReadAllText(Path.Combine(from, splitFile)) != File.ReadAllText(Path.Combine(_out, splitFile)))
            throw AnyResException.ForFile(Path.Combine(from, splitFile), "differs from this run's split (the data changed?); its stage 1 saw other training images");
        if (!File.Exists(snapshot)) throw AnyResException.ForFile(snapshot, "the stage-1 snapshot of --stage1-from is gone");
        (phase.Done, phase.Snapshot, phase.RunDir, phase.Seconds) = (true, snapshot, sourceStage1.RunDir, sourceStage1.Seconds);
        SaveState();
        log($"stage1: reusing {snapshot} ({sourceStage1.Seconds / 60:0.0} min of training in {from})");
        return snapshot;
    }

    /// <summary>The metrics the held-out data can supply: fd-full at p (needs 4 images of at least p) and the zoom bands.</summary>
    public static List<(MetricSpec Spec, string Name, int Images)> Metrics(IReadOnlyList<ImageEntry> heldOut, int p)
    {
        var list = new List<(MetricSpec, string, int)>();
        int full = heldOut.Count(i => i.MinSide >= p);
        if (full >= 4) list.Add((MetricSpec.Parse($"fd-full{p}"), "full image", full));
        foreach (var band in ZoomBand.Default)
            if (band.Supplying(heldOut, p) is var n && n > 0) list.Add((band.Spec(p), $"zoom {band.Name}", n));
        return list;
    }

    /// <summary>Per metric, the features of the held-out reals and of both models' fakes, each band saved once it is complete.</summary>
    void Features(string stage1, string stage2, int p, CancellationToken cancel)
    {
        using var heldOut = ImageSource.OpenNonEmpty(HeldOutDir);
        var detector = FeatureExtractors.Create("resnet18", null, device);
        var options = new MetricOptions { Num = settings.Patches, Batch = 16, Seed = (ulong)settings.Seed, CacheDir = Path.Combine(_out, "metrics-cache") };
        var last = Stopwatch.StartNew();
        string model = "";
        var runner = new MetricRunner(detector, options, heldOut, heldOut)
        {
            Progress = (label, phase, done, total) =>
            {
                cancel.ThrowIfCancellationRequested();   // the runner's partial features let the next run continue
                if (last.Elapsed < ProgressInterval / 6 && done < total) return;
                last.Restart();
                log($"  {label} {(phase == "fakes" ? model : phase)} {done}/{total}");
            },
        };
        var s2 = GeneratorMetricSource.Load(stage2, device, upsampled: false);
        var up = GeneratorMetricSource.Load(stage1, device, upsampled: true);
        foreach (var (spec, name, images) in Metrics(heldOut.Images, p))
        {
            var file = Path.Combine(FeaturesDir, spec.Label + ".safetensors");
            if (File.Exists(file)) continue;
            log($"  {name} ({spec.Label}): held-out images {images}");
            using var reals = runner.RealStatistics(spec, p, out var transforms, out var offsets);
            model = "stage 2";
            using var fakes2 = runner.FakeStatistics(spec, s2, reals.Count, transforms, offsets);
            model = "stage 1 upsampled";
            using var fakesUp = runner.FakeStatistics(spec, up, reals.Count, transforms, offsets);
            using var scope = torch.NewDisposeScope();
            SafetensorsFile.Write(file, new Dictionary<string, torch.Tensor> { ["reals"] = reals.Features(), ["stage2"] = fakes2.Features(), ["upsampled"] = fakesUp.Features() },
                new Dictionary<string, string> { ["metric"] = spec.Label, ["name"] = name, ["images"] = images.ToString(CultureInfo.InvariantCulture) });
            transforms?.Dispose();
            offsets?.Dispose();
        }
    }

    void Figure(string stage1, string stage2, int p)
    {
        using var heldOut = ImageSource.OpenNonEmpty(HeldOutDir);
        var figure = ComparisonFigure.Render(GeneratorMetricSource.Load(stage2, device, false), GeneratorMetricSource.Load(stage1, device, true), heldOut, FigureSeeds, Math.Max(1, 128 / p));
        AtomicFile.WriteAllBytes(Path.Combine(_out, FigureFile), SynthImages.EncodePng(figure));
    }

    /// <summary>The table's rows from the saved features, in the order of <see cref="Metrics"/>.</summary>
    List<(string Name, int Images, ComparisonRow Row)> Rows(int p)
    {
        var rows = new List<(string, int, ComparisonRow)>();
        foreach (var (spec, name, images) in Metrics(ImagesIn(HeldOutDir), p))
        {
            var file = SafetensorsFile.Read(Path.Combine(FeaturesDir, spec.Label + ".safetensors"));
            var t = file.Tensors;
            try { rows.Add((name, images, Comparison.Compute(spec.Label, t["reals"], t["stage2"], t["upsampled"], paired: spec.PatchLike, settings.Rounds, (ulong)settings.Seed))); }
            finally { foreach (var tensor in t.Values) tensor.Dispose(); }
        }
        return rows;
    }
}

/// <summary>reproduce.json: the settings' fingerprint, the command that started the run, and each phase's state.</summary>
public sealed class ReproduceState
{
    public string Settings { get; set; } = "";
    public string Command { get; set; } = "";
    public Dictionary<string, PhaseState> Phases { get; set; } = [];

    public PhaseState Phase(string name) => Phases.TryGetValue(name, out var p) ? p : Phases[name] = new PhaseState();

    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static ReproduceState Read(string path)
    {
        try { return JsonSerializer.Deserialize<ReproduceState>(File.ReadAllText(path), Json) ?? throw new JsonException("empty"); }
        catch (JsonException e) { throw AnyResException.ForFile(path, $"not a reproduce state file ({e.Message})", e); }
    }
}

/// <summary>One phase: finished or not, wall seconds over all attempts, and for training its run directory and last snapshot.</summary>
public sealed class PhaseState
{
    public bool Done { get; set; }
    public double Seconds { get; set; }
    public string? RunDir { get; set; }
    public string? Snapshot { get; set; }
}
