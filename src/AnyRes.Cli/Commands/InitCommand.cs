using System.CommandLine;
using AnyRes.Core;
using AnyRes.Networks;
using AnyRes.Training;
using TorchSharp;

namespace AnyRes.Cli.Commands;

/// <summary>anyres init: a randomly initialised G, G_ema (= G, as at the start of training) and D in one checkpoint.</summary>
public static class InitCommand
{
    public static Command Create()
    {
        var cfg = new Option<string>("--cfg") { Description = "Generator config: stylegan3-t, stylegan3-r or tiny (a small stylegan3-t with its small D)", DefaultValueFactory = _ => "stylegan3-t" };
        cfg.AcceptOnlyFromAmong("stylegan3-t", "stylegan3-r", "tiny");
        var size = new Option<int>("--size") { Description = "Output size of G and input size of D (power of two, 16..1024)", DefaultValueFactory = _ => 256 };
        var patch = new Option<bool>("--patch") { Description = "Stage-2 generator: with the scale mapping branch (patch training)" };
        var output = new Option<string>("--out") { Description = "Checkpoint file to write (.safetensors; an existing file is not replaced)", Required = true };
        var seed = new Option<long>("--seed") { Description = "Random seed of the initial weights", DefaultValueFactory = _ => 0 };
        var command = new Command("init", "Write a randomly initialised network checkpoint (G, G_ema, D), for tests and benchmarks.") { cfg, size, patch, output, seed };
        command.SetAction(CliCommon.Action(result =>
        {
            string c = result.GetValue(cfg)!, path = CliCommon.NewOutput(result.GetValue(output)!, "--out");
            int s = result.GetValue(size);
            GeneratorOptions gOptions;
            try { gOptions = c == "tiny" ? GeneratorOptions.Tiny(s) : GeneratorOptions.Preset(c, s); }
            catch (ArgumentException e) { throw new AnyResException($"--size {s}: {e.Message}"); }
            if (result.GetValue(patch)) gOptions = gOptions with { TrainingMode = TrainingMode.Patch };
            var dOptions = c == "tiny" ? DiscriminatorOptions.Tiny(s) : DiscriminatorOptions.For(s);

            torch.manual_seed(result.GetValue(seed));
            using var G = new Generator(gOptions);
            using var G_ema = new Generator(gOptions);
            TrainingNetworks.CopyByName(G, G_ema);   // as at the start of training
            using var D = new Discriminator(dOptions);
            NetworkCheckpoint.Save(path, G, G_ema, D, new Dictionary<string, string> { ["anyres.init"] = $"cfg={c} size={s} seed={result.GetValue(seed)}" });
            Console.WriteLine($"wrote {path}: G/G_ema {gOptions.Cfg} {s}x{s} ({gOptions.TrainingMode}), D {s}x{s}");
            return 0;
        }));
        return command;
    }
}
