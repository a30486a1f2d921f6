using System.CommandLine;
using System.Globalization;
using AnyRes.Core;
using AnyRes.Data;
using AnyRes.Metrics;

namespace AnyRes.Cli.Commands;

/// <summary>Options shared by <c>metrics</c> and <c>compare</c>, and running one network's metrics.</summary>
static class MetricsCli
{
    public static readonly Option<string?> Data = new("--data") { Description = "The LR (fixed-size) dataset: reals of full{R} with R = p" };
    public static readonly Option<string?> DataHr = new("--data-hr") { Description = "The native-size (HR) dataset: reals of patch/subpatch metrics and of full{R} with R > p" };
    public static readonly Option<string> Metrics = new("--metrics") { Description = "Comma-separated: fd-full{R}, fd-up{R}, fd-patch{P}-min{A}max{B}, fd-subpatch{P}-min{A}max{B}; kid-… for KID", Required = true };
    public static readonly Option<int> Num = new("--num") { Description = "Images per set (reference: 50,000; lower it on a CPU)", DefaultValueFactory = _ => 50_000 };
    public static readonly Option<int> Batch = new("--batch") { Description = "Images per batch", DefaultValueFactory = _ => 16 };
    public static readonly Option<ulong> Seed = new("--seed") { Description = "Seed of the real-patch sampling and the latents", DefaultValueFactory = _ => 0UL };
    public static readonly Option<string> Detector = new("--detector") { Description = "resnet18 (shipped; results fd_resnet18_*) or inception (results fid_*; needs --detector-file)", DefaultValueFactory = _ => "resnet18" };
    public static readonly Option<string?> DetectorFile = new("--detector-file") { Description = "NVIDIA's inception-2015-12-05 as a TorchScript file" };
    public static readonly Option<bool> XFlip = new("--xflip") { Description = "Include mirrored reals (as a training run with --mirror)" };
    public static readonly Option<string> Cache = new("--cache") { Description = "Folder for cached real statistics and for the partial features that let an interrupted run resume (saved every minute)", DefaultValueFactory = _ => DefaultCache() };

    public static readonly Option<string?> Class = new("--class") { Description = "Class whose images a conditional network generates: a name of its class table or an index (reals are not filtered by label; see --per-class)" };

    public static IEnumerable<Option> All => [Data, DataHr, Metrics, Num, Batch, Seed, Detector, DetectorFile, XFlip, Cache, Class];

    static string DefaultCache() => Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } x ? x
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "anyres", "metrics");

    public static List<MetricSpec> Specs(ParseResult r) =>
        r.GetValue(Metrics)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(MetricSpec.Parse).ToList();

    /// <summary>Runs the metrics of one generator (by class with <paramref name="classes"/>); returns result name → value and metric label → reals used.</summary>
    public static (Dictionary<string, double> Results, Dictionary<string, long> Reals) Run(ParseResult r, IFeatureExtractor detector, IMetricGenerator generator,
        List<MetricSpec> specs, string title, MetricClasses? classes = null)
    {
        int num = r.GetValue(Num), batch = r.GetValue(Batch);
        if (num < 2) throw new AnyResException($"--num must be at least 2, got {num}");
        if (batch < 1) throw new AnyResException($"--batch must be positive, got {batch}");
        using var lowRes = r.GetValue(Data) is { } lr ? ImageSource.OpenNonEmpty(lr) : null;
        using var highRes = r.GetValue(DataHr) is { } hr ? ImageSource.OpenNonEmpty(hr) : null;
        var options = new MetricOptions { Num = num, Batch = batch, Seed = r.GetValue(Seed), XFlip = r.GetValue(XFlip), CacheDir = r.GetValue(Cache), Classes = classes };
        bool terminal = !Console.IsErrorRedirected;
        var last = DateTime.MinValue;
        var runner = new MetricRunner(detector, options, lowRes, highRes)
        {
            Progress = (label, phase, done, total) =>
            {
                if (!terminal && done < total && (DateTime.UtcNow - last).TotalSeconds < 10) return;
                last = DateTime.UtcNow;
                Console.Error.Write($"{(terminal ? "\r" : "")}{title} {label} {phase} {done}/{total} ({100.0 * done / total:F0}%){(terminal && done < total ? "" : "\n")}");
            },
        };
        return (runner.Run(generator, specs), runner.RealCounts);
    }

    public static string Format(double v) => v.ToString("0.0000", CultureInfo.InvariantCulture);
}
