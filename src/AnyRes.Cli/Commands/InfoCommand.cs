using System.CommandLine;
using System.Text.Json;
using AnyRes.Core;
using AnyRes.Networks;
using TorchSharp;
using static TorchSharp.torch;
using Generator = AnyRes.Networks.Generator;

namespace AnyRes.Cli.Commands;

/// <summary>
/// anyres info: for each network of a checkpoint, a module table like StyleGAN3's print_module_summary (parameters and
/// buffers per submodule down to <see cref="MaxNesting"/> levels, deeper ones folded into their parent; output shape and
/// dtype from one forward at batch 1), totals, and the options.
/// </summary>
public static class InfoCommand
{
    const int MaxNesting = 3;

    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "Network checkpoint (.safetensors) written by anyres init, training or import, an official snapshot (.pkl), or a bundled model name (deep-sky)" };
        var command = new Command("info", "Print each network's module summary (layer, parameters, buffers, output shape, dtype), totals and options.") { file };
        command.SetAction(CliCommon.Action(result =>
        {
            var path = result.GetValue(file)!;
            var device = CliCommon.Device(result);
            var networks = NetworkCheckpoint.Load(path, device);
            foreach (var (name, module, options) in new (string, nn.Module?, object?)[] { ("G", networks.G, networks.G?.Options), ("G_ema", networks.G_ema, networks.G_ema?.Options), ("D", networks.D, networks.D?.Options) })
            {
                if (module is null) continue;
                using var scope = NewDisposeScope();
                var outputs = new Dictionary<string, Tensor>();
                var hooks = Hook(module, outputs);
                using (no_grad()) outputs[""] = module switch
                {
                    Generator g => g.forward(randn(1, g.ZDim, device: device), g.CDim > 0 ? zeros(1, g.CDim, device: device) : null),
                    Discriminator d => d.forward(randn(1, d.Options.ImgChannels, d.Options.ImgResolution, d.Options.ImgResolution, device: device),
                        d.Options.CDim > 0 ? zeros(1, d.Options.CDim, device: device) : null),
                    _ => throw new InvalidOperationException(),
                };
                foreach (var remove in hooks) remove();
                Console.WriteLine($"{name} ({module.GetType().Name})");
                Print(module, outputs);
                Console.WriteLine($"options: {JsonSerializer.Serialize(options, options!.GetType(), NetworkCheckpoint.Json)}");
                Console.WriteLine();
            }
            var extra = networks.Metadata.Where(kv => !kv.Key.EndsWith(".options") && kv.Key != "format").Select(kv => $"{kv.Key}={kv.Value}");
            Console.WriteLine($"metadata: {string.Join(", ", extra)}");
            return 0;
        }));
        return command;
    }

    /// <summary>Records the output of every submodule with a Tensor → Tensor forward (the others show "-").</summary>
    static List<Action> Hook(nn.Module module, Dictionary<string, Tensor> outputs)
    {
        var hooks = new List<Action>();
        foreach (var (name, m) in module.named_modules())
            if (m is nn.Module<Tensor, Tensor> typed && name.Length > 0)
                { var h = typed.register_forward_hook((_, _, y) => { outputs[name] = y; return y; }); hooks.Add(h.remove); }
        return hooks;
    }

    static void Print(nn.Module module, Dictionary<string, Tensor> outputs)
    {
        var rows = new List<string[]> { new[] { "Layer", "Parameters", "Buffers", "Output shape", "Datatype" } };
        long paramTotal = 0, bufferTotal = 0;
        foreach (var (name, m) in DepthFirst(module, "", 1))
        {
            // Own tensors plus those of descendants below the table's depth.
            bool deepest = name.Split('.').Length == MaxNesting;
            long p = (deepest ? m.parameters() : m.parameters(recurse: false)).Sum(t => t.numel());
            long b = (deepest ? m.buffers() : m.buffers(recurse: false)).Sum(t => t.numel());
            outputs.TryGetValue(name, out var y);
            if (p == 0 && b == 0 && y is null) continue;
            rows.Add(new[] { name, Count(p), Count(b), y is null ? "-" : Shape(y), y is null ? "-" : DType(y) });
            paramTotal += p;
            bufferTotal += b;
        }
        var top = outputs[""];
        rows.Add(new[] { "<top-level>", "-", "-", Shape(top), DType(top) });
        rows.Add(new[] { "Total", paramTotal.ToString(), bufferTotal.ToString(), "-", "-" });
        var widths = Enumerable.Range(0, 5).Select(i => rows.Max(r => r[i].Length)).ToArray();
        string Line(string[] r) => string.Join("  ", r.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd();
        Console.WriteLine(Line(rows[0]));
        Console.WriteLine(Line(widths.Select(w => new string('-', w)).ToArray()));
        foreach (var r in rows.Skip(1).SkipLast(1)) Console.WriteLine(Line(r));
        Console.WriteLine(Line(widths.Select(w => new string('-', w)).ToArray()));
        Console.WriteLine(Line(rows[^1]));
    }

    /// <summary>Submodules in reading order (each followed by its children), down to <see cref="MaxNesting"/> levels.</summary>
    static IEnumerable<(string Name, nn.Module Module)> DepthFirst(nn.Module module, string prefix, int depth)
    {
        if (depth > MaxNesting) yield break;
        foreach (var (name, child) in module.named_children())
        {
            yield return (prefix + name, child);
            foreach (var row in DepthFirst(child, prefix + name + ".", depth + 1)) yield return row;
        }
    }

    static string Count(long n) => n == 0 ? "-" : n.ToString();
    static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";
    static string DType(Tensor t) => t.dtype.ToString().ToLowerInvariant();
}
