using System.Text.Json.Nodes;
using AnyRes.Data;
using AnyRes.Networks;
using AnyRes.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Tests.Training;

/// <summary>Synthetic LR and HR image folders shared by the training tests (written once per test run); labelled by class folder with classes &gt; 0.</summary>
public class SyntheticSets
{
    public string Root { get; }
    public string LowRes => Path.Combine(Root, "lr");
    public string HighRes => Path.Combine(Root, "hr");
    readonly int _classes;

    public SyntheticSets() : this("train", 0) { }

    /// <param name="panoramaTurn">Wrap-around panoramas this many frames wide (heights from the usual size ranges).</param>
    protected SyntheticSets(string name, int classes, double? panoramaTurn = null)
    {
        Root = Path.Combine(Path.GetTempPath(), $"anyres-{name}-{Environment.ProcessId}");
        _classes = classes;
        if (!Directory.Exists(LowRes)) SynthImages.WriteSet(LowRes, 16, 64, 96, 1, classes, panoramaTurn);
        if (!Directory.Exists(HighRes)) SynthImages.WriteSet(HighRes, 8, panoramaTurn is null ? 256 : 128, panoramaTurn is null ? 512 : 256, 2, classes, panoramaTurn);
    }

    /// <summary>The tiny preset, shrunk further so a test iteration takes a fraction of a second (conditional on labelled sets).</summary>
    public TrainingOptions Tiny(TrainingMode stage, string outdir, int iterations) =>
        TrainingOptions.Preset("tiny", stage) with
        {
            Data = LowRes, DataHr = stage == TrainingMode.Patch ? HighRes : null, Outdir = outdir, Cond = _classes > 0,
            Cbase = 256, Cmax = 16, ZDim = 16, Kimg = iterations * 4 / 1000.0, Tick = 8 / 1000.0, Snap = 1000, Keep = 0, Workers = 1,
        };

    public static string NewOutdir() => Path.Combine(Path.GetTempPath(), $"anyres-runs-{Guid.NewGuid():N}");
}

public class TrainingRunTests(SyntheticSets sets) : IClassFixture<SyntheticSets>
{
    static readonly Device Cpu = torch.CPU;

    static List<JsonObject> Stats(string runDir) =>
        File.ReadAllLines(Path.Combine(runDir, TrainingRun.StatsFileName)).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    static double Mean(JsonObject tick, string name) => (double)tick[name]!["mean"]!;

    [Fact]
    public void Two_stage_tiny_run_trains_snapshots_and_distils_the_teacher()
    {
        var outdir = SyntheticSets.NewOutdir();
        var stage1Snapshot = Train(sets.Tiny(TrainingMode.Global, outdir, 12), runDir =>
        {
            var stats = Stats(runDir);
            Assert.All(stats, t => Assert.True(double.IsFinite(Mean(t, "Loss/G/loss")) && double.IsFinite(Mean(t, "Loss/D/loss"))));
            Assert.Contains(stats, t => t.ContainsKey("Loss/r1_penalty"));
            Assert.NotEmpty(Directory.GetFiles(runDir, "fakes*.png"));
            Assert.NotEmpty(Directory.GetFiles(runDir, "events.out.tfevents.*"));
        });
        var loaded = NetworkCheckpoint.Load(stage1Snapshot, Cpu);
        Assert.NotNull(loaded.G_ema);

        var stage2 = sets.Tiny(TrainingMode.Patch, outdir, 40) with { Teacher = stage1Snapshot, Tick = 4 / 1000.0 };
        using (var run = TrainingRun.Start(stage2, Cpu, _ => { }))
        {
            run.Run();
            var stats = Stats(run.RunDir);
            var teacherL1 = stats.Where(t => t.ContainsKey("Loss/G/loss_teacher_l1")).Select(t => Mean(t, "Loss/G/loss_teacher_l1")).ToList();
            Assert.All(stats, t => Assert.True(double.IsFinite(Mean(t, "Loss/G/loss_total"))));
            Assert.True(teacherL1.Count >= 8, "teacher loss logged every tick");
            double first = teacherL1.Take(3).Average(), last = teacherL1.TakeLast(3).Average();
            Assert.True(last < first, $"teacher L1 falls: first ticks {first:0.0000}, last ticks {last:0.0000}");
            double zoomMin = stats.Min(t => (double)t["Zoom/min"]!["min"]!), zoomMax = stats.Max(t => (double)t["Zoom/max"]!["max"]!);
            Assert.Equal(1.0, zoomMin, 6);                       // LR batches: zoom 1
            Assert.True(zoomMax > 4, $"HR patches reach high zoom (max sampled {zoomMax:0.00})");
            var snapshot = Directory.GetFiles(run.RunDir, "network-snapshot-*.safetensors").Order().Last();
            var student = NetworkCheckpoint.Load(snapshot, Cpu);
            Assert.True(student.G!.HasScaleMapping);
        }
    }

    /// <summary>Trains <paramref name="options"/> to the end, lets <paramref name="check"/> look at the run directory, returns the last snapshot.</summary>
    internal static string Train(TrainingOptions options, Action<string>? check = null)
    {
        using var run = TrainingRun.Start(options, Cpu, _ => { });
        run.Run();
        check?.Invoke(run.RunDir);
        return Directory.GetFiles(run.RunDir, "network-snapshot-*.safetensors").Order().Last();
    }

    [Fact]
    public void Resume_continues_bit_identically() =>
        AssertResumeIsExact(sets.Tiny(TrainingMode.Global, SyntheticSets.NewOutdir(), 2 * 9), 9);   // crosses a lazy-R1 iteration (every 16th) on both sides

    /// <summary>Runs <paramref name="options"/> straight, and again stopped after <paramref name="n"/> iterations and resumed: the same state.</summary>
    internal static void AssertResumeIsExact(TrainingOptions options, int n)
    {
        Dictionary<string, Tensor> straight;
        using (var run = TrainingRun.Start(options, Cpu, _ => { }))
        {
            run.Run();
            straight = State(run);
        }
        string runDir;
        using (var first = TrainingRun.Start(options, Cpu, _ => { }))
        {
            first.MaxIterations = n;
            first.Run();
            runDir = first.RunDir;
        }
        using (var second = TrainingRun.Resume(runDir, Cpu, _ => { }))
        {
            Assert.Equal(n, second.Trainer.Counters.BatchIdx);
            second.Run();
            var resumed = State(second);
            Assert.Equal(straight.Keys.Order(), resumed.Keys.Order());
            foreach (var (name, t) in straight)
            {
                Assert.Equal(t.shape, resumed[name].shape);
                Assert.True(t.eq(resumed[name]).all().item<bool>(), $"{name} differs after resume");
            }
        }
        // Resuming the finished run (a kill right after its last snapshot, then --resume) trains nothing more.
        using (var again = TrainingRun.Resume(runDir, Cpu, _ => { }))
        {
            again.Run();
            var state = State(again);
            foreach (var (name, t) in straight) Assert.True(t.eq(state[name]).all().item<bool>(), $"{name} changed when the finished run was resumed");
        }
    }

    static Dictionary<string, Tensor> State(TrainingRun run)
    {
        var n = run.Trainer.Nets;
        var all = new Dictionary<string, Tensor>();
        foreach (var (prefix, m) in new (string, nn.Module)[] { ("G.", n.G), ("G_ema.", n.G_ema), ("D.", n.D) })
            foreach (var (k, v) in m.state_dict()) all[prefix + k] = v.detach().clone();
        foreach (var (k, v) in run.Trainer.OptG.State("optG.").Concat(run.Trainer.OptD.State("optD."))) all[k] = v.detach().clone();
        return all;
    }
}
