using System.CommandLine;
using AnyRes.Metrics;

namespace AnyRes.Cli.Commands;

/// <summary>
/// The same metrics, same reals (same seed: identical real patches), for several networks, as one table. The paper's central
/// comparison: <c>anyres compare --network stage2.safetensors --upsampled stage1.safetensors --data-hr HR --metrics fd-patch256-min256max0</c>.
/// </summary>
public static class CompareCommand
{
    public static Command Create()
    {
        var networks = new Option<string[]>("--network") { Description = "Network checkpoints (.safetensors), official snapshots (.pkl) or bundled model names (deep-sky), evaluated as they are (repeatable)", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] };
        var upsampled = new Option<string[]>("--upsampled") { Description = "Network checkpoints or snapshots evaluated as the upsampled baseline: G(z) at p, band-limited warp to every patch/size (repeatable)", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] };
        var command = new Command("compare", "Run the same metrics on several networks (and upsampled baselines) and print one table.") { networks, upsampled };
        foreach (var o in MetricsCli.All) command.Options.Add(o);
        command.SetAction(CliCommon.Action(result =>
        {
            var device = CliCommon.Device(result);
            var specs = MetricsCli.Specs(result);
            var runs = result.GetValue(networks)!.Select(n => (Path: n, Up: false)).Concat(result.GetValue(upsampled)!.Select(n => (Path: n, Up: true))).ToList();
            if (runs.Count == 0) throw new Core.AnyResException("give at least one --network or --upsampled checkpoint");
            var detector = FeatureExtractors.Create(result.GetValue(MetricsCli.Detector)!, result.GetValue(MetricsCli.DetectorFile), device);
            var rows = new List<(string Name, Dictionary<string, double> Results)>();
            foreach (var (path, up) in runs)
            {
                var name = Path.GetFileName(path) + (up ? " (upsampled)" : "");
                rows.Add((name, MetricsCli.Run(result, detector, GeneratorMetricSource.Load(path, device, up, result.GetValue(MetricsCli.Class)), specs, name).Results));
            }
            var columns = rows.SelectMany(r => r.Results.Keys).Distinct().ToList();
            int width = Math.Max(7, rows.Max(r => r.Name.Length));
            Console.WriteLine("network".PadRight(width) + string.Concat(columns.Select(c => "  " + c)));
            foreach (var (name, res) in rows)
                Console.WriteLine(name.PadRight(width) + string.Concat(columns.Select(c => "  " + (res.TryGetValue(c, out var v) ? MetricsCli.Format(v) : "-").PadLeft(c.Length))));
            return 0;
        }));
        return command;
    }
}
