using System.CommandLine;
using AnyRes.Core;
using AnyRes.Networks;

namespace AnyRes.Cli.Commands;

/// <summary>
/// anyres import: an official StyleGAN3 / anyres-gan network snapshot (.pkl) into an AnyRes checkpoint, strictly (every
/// tensor of G, G_ema and D consumed and shape-checked against the networks its constructor arguments describe), with a
/// one-screen summary. Other verbs take a .pkl directly through the same import, cached (docs/import.md).
/// </summary>
public static class ImportCommand
{
    public static Command Create()
    {
        var snapshot = new Argument<string>("SNAPSHOT") { Description = "Official network snapshot (network-snapshot-*.pkl or a published stylegan3-*.pkl); read without running any of its code" };
        var output = new Option<string>("--out") { Description = "Checkpoint file to write (.safetensors; an existing file is not replaced); written only if the whole snapshot maps", Required = true };
        var command = new Command("import", "Convert an official StyleGAN3 or anyres-gan network snapshot (.pkl) into an AnyRes checkpoint (G, G_ema, D with their options), printing what it holds.") { snapshot, output };
        command.SetAction(CliCommon.Action(result =>
        {
            string path = result.GetValue(snapshot)!, target = CliCommon.NewOutput(result.GetValue(output)!, "--out");
            if (!target.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) throw new AnyResException($"--out {target}: the checkpoint must be a .safetensors file");
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var official = OfficialSnapshot.Read(path);
            official.Save(path, target, official.Metadata(path));
            Console.WriteLine($"{path} -> {target}");
            foreach (var line in official.Summary()) Console.WriteLine("  " + line);
            Console.WriteLine($"  imported in {watch.Elapsed.TotalSeconds:F1} s");
            return 0;
        }));
        return command;
    }
}
