using System.Globalization;
using System.Text;
using AnyRes.Data;

namespace AnyRes.Metrics;

/// <summary>results.md of the reproduction protocol: command, data split, the table, wall time per phase and the picture.</summary>
public static class ReproduceReport
{
    /// <summary>Issue 16's goal: stage-2 pFID at most this fraction of the upsampled stage 1's at every band of zoom ≥ 2.</summary>
    public const double GoalRatio = 0.7;

    public static string Markdown(ReproduceSettings s, ReproduceState state, IReadOnlyList<(string Name, int Images, ComparisonRow Row)> rows, int p,
        IReadOnlyList<ImageEntry> train, IReadOnlyList<ImageEntry> heldOut)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        void Line(string text = "") => md.Append(text).Append('\n');
        string Sides(IReadOnlyList<ImageEntry> images) => $"short sides {images.Min(i => i.MinSide)}–{images.Max(i => i.MinSide)} px";
        Line("# Stage 2 against stage 1 upsampled: the paper's comparison at CPU scale");
        Line();
        Line("```");
        Line(state.Command.Length > 0 ? state.Command : s.Command);
        Line("```");
        Line();
        Line(string.Create(inv, $"* data: `{Path.GetFullPath(s.Data)}` — {train.Count} train ({Sides(train)}), {heldOut.Count} held out ({Sides(heldOut)}); {DataSplit.Rule} (`split/split.tsv`)"));
        Line(string.Create(inv, $"* training: preset `{s.Preset}` (p = {p}), seed {s.Seed}, scale conditioning `{s.ConditioningName}`, budget {s.Hours:0.###} h: stage 1 {ReproduceSettings.Stage1Share:P0}, stage 2 {ReproduceSettings.Stage2Share:P0}, the rest for the split, the metric pass and the picture"));
        foreach (var stage in new[] { "stage1", "stage2" })
            if (state.Phase(stage).Snapshot is { } snapshot) Line($"* {stage}: `{Rel(s, snapshot)}`");
        if (s.Stage1From is { } from) Line($"* stage 1 was not trained here: taken from the run in `{Path.GetFullPath(from)}` (`--stage1-from`); its wall time is that run's");
        Line(string.Create(inv, $"* metrics: ResNet18 features (`fd_resnet18_*`, not comparable with published FIDs), {s.Patches} patches per zoom band, metric seed {s.Seed}; spread ± = standard deviation over {s.Rounds} half-samples of the features"));
        Line();
        Line("## Table");
        Line();
        Line("| metric | held-out images | reals | fakes | FD stage 2 | FD stage 1 upsampled | ratio 2 / up | stage 2 lower | KID stage 2 | KID stage 1 upsampled |");
        Line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (name, images, r) in rows)
            Line(string.Create(inv, $"| {name} (`{r.Label}`) | {images} | {r.Reals} | {r.Fakes} | {Fd(r.FdStage2)} | {Fd(r.FdUpsampled)} | {r.Ratio.Value:0.000} ± {r.Ratio.Std:0.000} | {r.Wins}/{r.Rounds} | {Kid(r.KidStage2)} | {Kid(r.KidUpsampled)} |"));
        var goalBands = rows.Where(r => r.Row.Label.Contains("patch") && !r.Name.StartsWith("zoom 1", StringComparison.Ordinal)).ToList();
        Line();
        if (goalBands.Count == 0) Line("No band of zoom ≥ 2 could be measured: no held-out image is large enough.");
        else Line(string.Create(inv, $"Goal of issue 16 (ratio ≤ {GoalRatio} at every band of zoom ≥ 2): met at {goalBands.Count(r => r.Row.Ratio.Value <= GoalRatio)} of {goalBands.Count} bands ({string.Join(", ", goalBands.Select(r => $"{r.Name}: {r.Row.Ratio.Value:0.000}"))})."));
        var missing = ZoomBand.Default.Where(b => !rows.Any(r => r.Name == $"zoom {b.Name}")).Select(b => b.Name).ToList();
        if (missing.Count > 0) Line($"Not measured: zoom {string.Join(", ", missing)} (no held-out image has a short side of at least the band's lower zoom × p).");
        Line();
        Line("How to read it: each band's reals are p×p crops of held-out images resized to a virtual side N uniform in the band's range "
            + "(clipped at each image's short side), and the i-th fake of both models is rendered with the i-th real's transform from the "
            + "same latent, so the two columns differ only in the model. \"Stage 1 upsampled\" is the stage-1 image G(z) warped to that patch by the "
            + "band-limited warp (spec §7/§8.3); in the full-image row it is G(z) itself through the identity warp. FD is biased upwards at "
            + "small sample counts, so compare the columns with each other, not with other tables. \"stage 2 lower\" counts the half-samples "
            + "in which stage 2's FD is below the upsampled model's.");
        Line();
        Line("## Wall time");
        Line();
        Line("| phase | minutes |");
        Line("|---|---:|");
        foreach (var name in ReproduceProtocol.PhaseNames.Where(n => n != "report"))
            Line(string.Create(inv, $"| {name} | {state.Phase(name).Seconds / 60:0.0} |"));
        Line(string.Create(inv, $"| total (without writing this file) | {ReproduceProtocol.PhaseNames.Sum(n => state.Phase(n).Seconds) / 60:0.0} |"));
        Line();
        Line("## Picture");
        Line();
        Line($"![stage 1 upsampled above stage 2, and held-out reals]({ReproduceProtocol.FigureFile})");
        Line();
        Line($"Columns: zoom k = 1, 2, 4, 8 (the centre p×p patch of a k·p virtual image). For each of the seeds 0, 1, 2: the stage-1 model "
            + "upsampled (upper row), then the stage-2 model (lower row), same latent and transform. Last row: held-out real patches at the "
            + "same zooms, from the held-out image with the longest short side (a label ending in x: that image is smaller than k·p, so the "
            + $"real patch is itself upsampled). Tiles are enlarged {Math.Max(1, 128 / p)}× by pixel replication.");
        return md.ToString();
    }

    static string Fd(Spread v) => string.Create(CultureInfo.InvariantCulture, $"{v.Value:0.0} ± {v.Std:0.0}");
    static string Kid(Spread v) => string.Create(CultureInfo.InvariantCulture, $"{v.Value:0.0000} ± {v.Std:0.0000}");

    static string Rel(ReproduceSettings s, string path) => Path.GetRelativePath(Path.GetFullPath(s.Out), path);
}
