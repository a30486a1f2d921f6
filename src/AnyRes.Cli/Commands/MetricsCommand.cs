using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AnyRes.Core;
using AnyRes.Data;
using AnyRes.Metrics;
using AnyRes.Synthesis;

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

public static class MetricsCommand
{
    public static Command Create()
    {
        var network = new Option<string>("--network") { Description = "Network checkpoint (.safetensors), official snapshot (.pkl) or bundled model name (deep-sky); G_ema is evaluated", Required = true };
        var upsampled = new Option<bool>("--upsampled") { Description = "Evaluate the network's p×p output upsampled by the band-limited warp (the stage-1 baseline) for every metric" };
        var output = new Option<string?>("--out") { Description = "Write the results as JSON here (also appended to metrics.jsonl next to the network); with --per-class a list of the records" };
        var perClass = new Option<bool>("--per-class")
        {
            Description = "Conditional network: one record per class (its fakes against the reals of that class only, labelled as train --cond reads them) "
                + "and one over all classes (fakes' classes in the data's proportions against all reals)",
        };
        var command = new Command("metrics", "Fréchet distance / KID of a trained network on full images, patches (pFID) and sub-patches, against real data.")
        {
            network, upsampled, output, perClass,
        };
        foreach (var o in MetricsCli.All) command.Options.Add(o);
        command.SetAction(CliCommon.Action(result =>
        {
            var device = CliCommon.Device(result);
            var specs = MetricsCli.Specs(result);
            // A bad --out fails now, not after the metric pass.
            if (result.GetValue(output) is { } target) AtomicFile.CreateFolder(Path.GetDirectoryName(Path.GetFullPath(target))!);
            var path = result.GetValue(network)!;
            var detector = FeatureExtractors.Create(result.GetValue(MetricsCli.Detector)!, result.GetValue(MetricsCli.DetectorFile), device);
            var className = result.GetValue(MetricsCli.Class);
            var records = new List<JsonObject>();
            JsonObject Measure(IMetricGenerator generator, string? classLabel, MetricClasses? classes)
            {
                var started = DateTime.UtcNow;
                var (results, reals) = MetricsCli.Run(result, detector, generator, specs, Path.GetFileName(path) + (classLabel is null ? "" : $" [{classLabel}]"), classes);
                foreach (var (name, value) in results) Console.WriteLine($"{(classLabel is null ? "" : classLabel + " ")}{name} {MetricsCli.Format(value)}");
                var record = new JsonObject
                {
                    ["network"] = Path.GetFullPath(path),
                    ["upsampled"] = result.GetValue(upsampled),
                    ["detector"] = detector.Name,
                    ["num"] = result.GetValue(MetricsCli.Num),
                    ["seed"] = result.GetValue(MetricsCli.Seed),
                    ["seconds"] = Math.Round((DateTime.UtcNow - started).TotalSeconds, 1),
                    ["timestamp"] = started.ToString("o"),
                    ["results"] = new JsonObject(results.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
                    ["reals"] = new JsonObject(reals.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
                };
                // The class of the fakes, and of the reals: every class's with --class, that class's with --per-class.
                if (classLabel is not null) (record["class"], record["reals_class"]) = (classLabel, classes?.Class is null ? "all" : classLabel);
                return record;
            }
            if (!result.GetValue(perClass))
                records.Add(Measure(GeneratorMetricSource.Load(path, device, result.GetValue(upsampled), className), className, null));
            else
            {
                if (className is not null) throw new AnyResException("--per-class measures every class: leave out --class");
                var source = GeneratorMetricSource.Load(path, device, result.GetValue(upsampled), classPerCall: true);
                if (source.Classes == 0) throw new AnyResException($"--per-class needs a conditional network; {path} is unconditional");
                var names = source.ClassNames ?? Enumerable.Range(0, source.Classes).Select(k => k.ToString(CultureInfo.InvariantCulture)).ToList();
                for (int k = 0; k < source.Classes; k++) records.Add(Measure(source, names[k], new MetricClasses(source.Classes, source.ClassNames, k)));
                records.Add(Measure(source, "all", new MetricClasses(source.Classes, source.ClassNames)));
            }
            var indented = new JsonSerializerOptions { WriteIndented = true };
            if (result.GetValue(output) is { } outFile)
                AtomicFile.WriteAllText(outFile, (result.GetValue(perClass) ? new JsonArray([.. records]).ToJsonString(indented) : records[0].ToJsonString(indented)) + "\n");
            // The run's log of metric results, one JSON object per line (like the reference's metric-*.jsonl).
            var log = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "metrics.jsonl");
            File.AppendAllText(log, string.Concat(records.Select(r => r.ToJsonString() + "\n")));
            return 0;
        }));
        return command;
    }
}
