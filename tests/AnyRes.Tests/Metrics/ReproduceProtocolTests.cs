using AnyRes.Data;
using AnyRes.Metrics;
using AnyRes.Tests.Data;
using AnyRes.Training;
using TorchSharp;

namespace AnyRes.Tests.Metrics;

public class ReproduceProtocolTests
{
    [Fact]
    public void Bands_are_patch_metrics_over_their_zoom_range_and_need_large_enough_images()
    {
        Assert.Equal(["patch64-min64max128", "patch64-min128max256", "patch64-min256max512", "patch64-min512max0"], ZoomBand.Default.Select(b => b.Spec(64).Label));
        Assert.Equal((2.0 / 4, (double?)(1.0 / 8)), (new ZoomBand(2, 4).Spec(64).Scales.ScaleMax, new ZoomBand(2, 8).Spec(64).Scales.ScaleMin));
        var images = new[] { new ImageEntry("a", 100, 700), new ImageEntry("b", 300, 300), new ImageEntry("c", 64, 64), new ImageEntry("d", 600, 520) };
        Assert.Equal([4, 2, 2, 1], ZoomBand.Default.Select(b => b.Supplying(images, 64)));
        Assert.Equal(["full image", "zoom 1–2", "zoom 2–4", "zoom 4–8", "zoom ≥ 8"], ReproduceProtocol.Metrics(images, 64).Select(m => m.Name));
        Assert.Equal(["zoom 1–2", "zoom 2–4", "zoom 4–8"], ReproduceProtocol.Metrics(images[..3], 64).Select(m => m.Name));   // 3 < 4 images for FD at p
    }

    /// <summary>
    /// The whole protocol on ten small synthetic images with shrunk networks and seconds of training: stopped during stage 2
    /// (as Ctrl-C), continued by a second run in place, finished with a table; a third run does nothing.
    /// </summary>
    [Fact]
    public void Protocol_runs_end_to_end_resumes_after_a_stop_and_writes_the_table()
    {
        using var dir = new TempDir();
        SynthImages.WriteSet(dir["data"], 10, 128, 200, seed: 4);
        var settings = new ReproduceSettings
        {
            Data = dir["data"], Out = dir["out"], Hours = 0.05 / 60, Preset = "tiny", Num = 8, Rounds = 3, Command = "anyres reproduce (test)",
            AdjustTraining = o => o with { Cbase = 256, Cmax = 16, ZDim = 16, Workers = 1 },
        };
        var log = new List<string>();
        using (var stop = new CancellationTokenSource())
        {
            var first = new ReproduceProtocol(settings, torch.CPU, line => { lock (log) log.Add(line); if (line.StartsWith("stage2: training")) stop.Cancel(); });
            Assert.Throws<OperationCanceledException>(() => first.Run(stop.Token));
        }
        var state = ReproduceState.Read(Path.Combine(dir["out"], ReproduceProtocol.StateFile));
        Assert.True(state.Phase("stage1").Done);
        Assert.False(state.Phase("stage2").Done);
        Assert.True(File.Exists(Path.Combine(state.Phase("stage2").RunDir!, TrainingRun.ResumeFileName)));

        var results = new ReproduceProtocol(settings, torch.CPU, log.Add).Run();
        Assert.Contains(log, l => l.StartsWith("continuing the run"));
        Assert.Contains(log, l => l.Contains("resuming"));
        Assert.Equal(2, Directory.GetDirectories(dir["out/runs"]).Length);   // stage 2 continued in its own run directory

        var md = File.ReadAllText(results);
        Assert.Contains("| zoom 1–2 (`patch64-min64max128`) | 1 | 8 | 8 |", md);
        Assert.Contains("| zoom 2–4 (`patch64-min128max256`) |", md);
        Assert.Contains("anyres reproduce (test)", md);
        Assert.Contains("| stage2 |", md);
        var png = File.ReadAllBytes(Path.Combine(dir["out"], ReproduceProtocol.FigureFile));
        Assert.Equal((byte)0x89, png[0]);
        Assert.Equal(2, Directory.GetFiles(dir["out/features"]).Length);
        var split = File.ReadAllLines(dir["out/split/split.tsv"]);
        Assert.Equal((9, 1), (split.Count(l => l.Contains("\ttrain\t")), split.Count(l => l.Contains("\theld-out\t"))));

        log.Clear();
        Assert.Equal(results, new ReproduceProtocol(settings, torch.CPU, log.Add).Run());
        Assert.Contains(log, l => l.Contains("already holds the finished run"));

        // The ablation: stage 2 with the other scale conditioning against the same stage 1, which is not trained again.
        var ablation = settings with { Out = dir["ablation"], ScaleConditioning = AnyRes.Networks.ScaleConditioning.LogZoom, Stage1From = dir["out"] };
        log.Clear();
        var ablationResults = new ReproduceProtocol(ablation, torch.CPU, log.Add).Run();
        var ablationState = ReproduceState.Read(Path.Combine(dir["ablation"], ReproduceProtocol.StateFile));
        Assert.Equal(state.Phase("stage1").Snapshot, ablationState.Phase("stage1").Snapshot);
        Assert.Single(Directory.GetDirectories(dir["ablation/runs"]));   // stage 2 only
        Assert.Contains(log, l => l.StartsWith("stage1: reusing"));
        Assert.Contains("`log-zoom`", File.ReadAllText(ablationResults));
        Assert.Contains("taken from the run in", File.ReadAllText(ablationResults));

        var otherSeed = ablation with { Out = dir["ablation-seed"], Seed = 1 };
        var error = Assert.Throws<AnyRes.Core.AnyResException>(() => new ReproduceProtocol(otherSeed, torch.CPU, _ => { }).Run());
        Assert.StartsWith($"{dir["out"]}: was run with other data, preset or seed", error.Message);
        var notARun = ablation with { Out = dir["ablation-none"], Stage1From = dir["data"] };
        error = Assert.Throws<AnyRes.Core.AnyResException>(() => new ReproduceProtocol(notARun, torch.CPU, _ => { }).Run());
        Assert.Equal($"{dir["data"]}: holds no {ReproduceProtocol.StateFile}: --stage1-from needs the out folder of a reproduce run", error.Message);
    }
}

[Collection("Console")]
public class ReproduceCommandTests
{
    static (int Code, string Out, string Err) Reproduce(params string[] args) => CliRunner.Run([AnyRes.Cli.Commands.ReproduceCommand.Create()], ["reproduce", .. args]);

    [Fact]
    public void Bad_inputs_get_one_line_and_a_user_error()
    {
        using var dir = new TempDir();
        var data = dir["data"];
        SynthImages.WriteSet(data, 1, 100, 100, seed: 1);
        var cases = new List<(string[] Args, string Expected)>
        {
            (["--data", dir["missing"], "--out", dir["o1"]], $"error: {dir["missing"]}: no such file or folder"),
            (["--data", data, "--out", dir["o2"], "--hours", "0"], "error: --hours 0: expected a positive number of hours (at most 1000)"),
            (["--data", data, "--out", dir["o3"], "--preset", "huge"], "error: --preset huge: expected 'paper', 'tiny' or 'cpu'"),
            (["--data", data, "--out", dir["o4"], "--num", "2"], "error: --num 2: need at least 8 patches per band (the spread takes halves)"),
            (["--data", data, "--out", dir["data/out"]], $"error: {dir["data/out"]}: is inside --data: the split's copies would become training data; choose an --out outside it"),
            (["--data", data, "--out", dir["o5"]], "error: a train/held-out split needs at least 2 images, got 1"),
        };
        Directory.CreateDirectory(dir["full"]);
        File.WriteAllText(dir["full/notes.txt"], "mine");
        cases.Add((["--data", data, "--out", dir["full"]], $"error: {dir["full"]}: is not empty and holds no {ReproduceProtocol.StateFile}: give a new or empty --out"));
        Directory.CreateDirectory(dir["other"]);
        File.WriteAllText(dir["other/" + ReproduceProtocol.StateFile], new ReproduceState { Settings = "{\"hours\":9}" }.ToJson());
        cases.Add((["--data", data, "--out", dir["other"]], $"error: {dir["other"]}: holds a reproduce run with other settings ({{\"hours\":9}}); rerun with those flags to continue it, or use another --out"));
        foreach (var (args, expected) in cases)
        {
            var (code, _, err) = Reproduce(args);
            Assert.Equal(AnyRes.Cli.CliCommon.UserError, code);
            Assert.Equal(expected, err.Trim());
        }
        Assert.Equal("mine", File.ReadAllText(dir["full/notes.txt"]));
    }

    [Fact]
    public void Help_names_the_budget_and_the_ablation()
    {
        var (code, text, _) = Reproduce("--help");
        Assert.Equal(0, code);
        Assert.Contains("--hours", text);
        Assert.Contains("--scale-conditioning", text);
    }
}
