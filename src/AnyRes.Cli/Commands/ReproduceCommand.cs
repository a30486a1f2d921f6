using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using AnyRes.Metrics;
using AnyRes.Networks;

namespace AnyRes.Cli.Commands;

/// <summary>
/// <c>anyres reproduce --data DIR --out DIR [--hours H]</c>: the paper's central comparison at CPU scale
/// (<see cref="ReproduceProtocol"/>, docs/reproduce.md). Ctrl-C stops after the current iteration or batch; the same
/// command continues.
/// </summary>
public static class ReproduceCommand
{
    /// <summary>Exit code after Ctrl-C (128 + SIGINT, as a shell reports it).</summary>
    const int Interrupted = 130;

    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Folder (or .zip) of images at their native sizes; split 90/10 into train and held out by a hash of each file's bytes", Required = true };
        var outDir = new Option<string>("--out") { Description = "Output folder (new or empty; or the folder of an interrupted run with the same flags, which continues)", Required = true };
        var hours = new Option<double>("--hours") { Description = "Total budget: 45 % stage 1, 40 % stage 2, the rest for the split, the metric pass and the picture", DefaultValueFactory = _ => 2 };
        var minutes = new Option<double?>("--minutes") { Description = "The budget in minutes instead of --hours (short runs, tests)" };
        var preset = new Option<string>("--preset") { Description = "Training preset: cpu (provisional CPU recipe, bench/recipe.md), tiny or paper", DefaultValueFactory = _ => "cpu" };
        var seed = new Option<int>("--seed") { Description = "Seed of the training runs, of the metric's patches and latents, and of the spread", DefaultValueFactory = _ => 0 };
        var conditioning = new Option<string>("--scale-conditioning") { Description = "Stage 2's scale branch: parity (as the reference) or log-zoom (the ablation)", DefaultValueFactory = _ => "parity" };
        conditioning.AcceptOnlyFromAmong("parity", "log-zoom");
        var num = new Option<int?>("--num") { Description = "Patches per zoom band (default: 400 per hour of budget, 48..2000)" };
        var stage1From = new Option<string?>("--stage1-from") { Description = "Out folder of an earlier run on the same data, preset and seed whose stage 1 is done: take its stage-1 model "
            + "instead of training one (for an ablation of stage 2, e.g. --scale-conditioning log-zoom against the same teacher); the budget's stage-1 share goes unused" };
        var rounds = new Option<int>("--rounds") { Description = "Half-sample rounds for the ± spread", DefaultValueFactory = _ => 20 };
        var command = new Command("reproduce", "The paper's central comparison on your data: split it 90/10 by content hash, train stage 1 then stage 2 within "
            + "the time budget, and compare the stage-2 model with the stage-1 model upsampled on held-out images (FD at the base size, pFID in zoom "
            + "bands 1-2, 2-4, 4-8, >=8, KID, spread over half-samples); writes results.md with the table, wall times and a picture.")
        {
            data, outDir, hours, minutes, preset, seed, conditioning, stage1From, num, rounds,
        };
        command.SetAction(CliCommon.Action(result =>
        {
            var device = CliCommon.Device(result);
            var settings = new ReproduceSettings
            {
                Data = result.GetValue(data)!, Out = result.GetValue(outDir)!,
                Hours = result.GetValue(minutes) is { } m ? m / 60 : result.GetValue(hours),
                Preset = result.GetValue(preset)!, Seed = result.GetValue(seed), Num = result.GetValue(num), Rounds = result.GetValue(rounds),
                ScaleConditioning = result.GetValue(conditioning) == "log-zoom" ? ScaleConditioning.LogZoom : ScaleConditioning.Parity,
                Stage1From = result.GetValue(stage1From),
                Command = "anyres " + string.Join(' ', result.Tokens.Select(t => Quote(t.Value))),
            };
            var clock = Stopwatch.StartNew();
            using var ctrlC = new CliCommon.CtrlC("stopping after this iteration or batch");
            try
            {
                var results = new ReproduceProtocol(settings, device, line => Console.WriteLine($"[reproduce {clock.Elapsed.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture)}] {line}")).Run(ctrlC.Token);
                Console.WriteLine();
                Console.WriteLine(File.ReadAllText(results));
                return 0;
            }
            catch (OperationCanceledException) when (ctrlC.Token.IsCancellationRequested)
            {
                Console.Error.WriteLine($"stopped; run the same command again to continue in {Path.GetFullPath(settings.Out)}");
                return Interrupted;
            }
        }));
        return command;
    }

    static string Quote(string arg) => arg.Length > 0 && arg.All(c => char.IsLetterOrDigit(c) || "-_./=:,+".Contains(c)) ? arg : $"'{arg.Replace("'", "'\\''")}'";
}
