using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AnyRes.Core;
using AnyRes.Metrics;

namespace AnyRes.Cli.Commands;

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
