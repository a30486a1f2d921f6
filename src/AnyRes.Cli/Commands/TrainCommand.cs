using AnyRes.Networks;
using System.CommandLine;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using AnyRes.Core;
using AnyRes.Training;

namespace AnyRes.Cli.Commands;

/// <summary>
/// <c>anyres train global|patch</c>: every <see cref="TrainingOptions"/> property is a flag (kebab-case; the reference's
/// underscore spellings are aliases), applied on top of <c>--preset</c> (paper = train.sh, tiny = a CPU run of minutes, cpu = a
/// provisional CPU recipe of hours).
/// </summary>
public static class TrainCommand
{
    static readonly Dictionary<string, string> Help = new()
    {
        ["data"] = "LR dataset (folder or .zip): stage 1, and the LR half of stage 2",
        ["data_hr"] = "HR dataset (folder or .zip) for the patches of stage 2",
        ["teacher"] = "stage-1 network: an AnyRes checkpoint or an official StyleGAN3 / anyres-gan stage-1 snapshot (.pkl) of the same size, for stage 2",
        ["outdir"] = "where run directories are created",
        ["batch"] = "total batch size per iteration",
        ["batch_gpu"] = "micro-batch per forward/backward pass (default: batch / gpus)",
        ["gamma"] = "R1 regularisation weight",
        ["kimg"] = "training length in thousands of real images",
        ["tick"] = "progress tick interval in kimg",
        ["snap"] = "snapshot interval in ticks",
        ["keep"] = "how many network snapshots to keep (0 = all)",
        ["lpips"] = "LPIPS-AlexNet weights (safetensors) for the teacher loss; default: the ResNet18 perceptual distance",
        ["teacher_mode"] = "teacher loss mode: inverse (train.sh) or forward",
        ["teacher_lambda"] = "teacher loss weight",
        ["base_probability"] = "probability of an LR batch (with identity transforms) per iteration",
        ["scale_max"] = "largest patch scale p/N (smallest virtual image)",
        ["scale_min"] = "smallest patch scale (default: the HR image's native size)",
        ["tiny_networks"] = "use the tiny generator/discriminator layouts (with --cbase/--cmax)",
        ["z_dim"] = "latent width (z and w) override",
        ["scale_conditioning"] = "how stage 2's scale branch sees the zoom: parity (as the reference: the mapping's input normalisation makes it inert) or log-zoom (log zoom scaled to [-1, 1] over the scale-mapping range, no normalisation; the ablation of docs/reproduce.md)",
        ["cond"] = "class-conditional training: labels from dataset.json ({\"labels\": [[\"path\", class], ...]}) in --data (and --data-hr), else one folder per class (DATA/<class name>/..., classes sorted by name); the class table goes into classes.json and every checkpoint",
        ["class_balanced"] = "with --cond: sample every class equally often (reals: each run of N-classes consecutive samples has one of each; fakes: uniform over the classes) instead of in proportion to the data",
        ["panorama"] = "360° panorama model (the reference's global-360): cylindrical input features; D sees a window across two neighbouring frames; reals are random square crops of the panoramas. In stage 2, implied by a panorama teacher (patch-360, docs/panorama.md)",
        ["fov"] = "with --panorama: degrees of the turn one frame spans (360/fov frames per turn)",
        ["ema"] = "G_ema half-life in kimg (default: batch * 10 / 32, as train.py)",
        ["recompute"] = "G's backward recomputes each synthesis layer, a few samples at a time, instead of keeping its intermediates: about one more forward of time for a fraction of the memory (SG3-T 256 at batch 4 needs it to fit in 16 GB)",
    };

    public static Command Create()
    {
        var train = new Command("train", "Train a generator: stage 1 ('global', fixed resolution) or stage 2 ('patch', continuous-scale patches with a frozen teacher). "
            + "Training returns large freed blocks to the system (resident memory stays near what is in use); ANYRES_HEAP=reuse keeps them instead: ~30 % faster at 256 px, but resident memory creeps (docs/training.md).");
        foreach (var stage in new[] { TrainingMode.Global, TrainingMode.Patch }) train.Subcommands.Add(Stage(stage));
        return train;
    }

    static Command Stage(TrainingMode stage)
    {
        var name = stage == TrainingMode.Global ? "global" : "patch";
        var command = new Command(name, stage == TrainingMode.Global
            ? "Stage 1: a StyleGAN3 on the LR dataset at the generator's resolution."
            : "Stage 2: patch training from a stage-1 teacher on LR images and HR patches at continuous scales.");
        var preset = new Option<string>("--preset") { Description = "paper (the train.sh values), tiny (a CPU run of minutes) or cpu (a provisional CPU recipe of hours, bench/recipe.md)", DefaultValueFactory = _ => "paper" };
        var dryRun = new Option<bool>("--dry-run", "-n") { Description = "print the resolved options as JSON and exit" };
        var resume = new Option<string?>("--resume") { Description = "continue the run in this run directory bit-identically (--kimg, --tick, --snap and --keep may change)" };
        command.Options.Add(preset);
        command.Options.Add(dryRun);
        command.Options.Add(resume);
        var flags = new List<(PropertyInfo Property, string JsonName, Option<string> Option)>();
        foreach (var p in typeof(TrainingOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            if (p.Name == nameof(TrainingOptions.TrainingMode)) continue;
            var json = JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name);
            var option = new Option<string>("--" + json.Replace('_', '-'))
            {
                Description = (Help.TryGetValue(json, out var h) ? h : $"train.py --{json}") + $" [{TypeName(p.PropertyType)}]",
            };
            if (json.Contains('_')) option.Aliases.Add("--" + json);
            if (p.PropertyType == typeof(bool)) option.Arity = ArgumentArity.ZeroOrOne;   // a bare --cond means true
            command.Options.Add(option);
            flags.Add((p, json, option));
        }

        command.SetAction(CliCommon.Action(result =>
        {
            var device = CliCommon.Device(result);
            var given = flags.Where(f => result.GetResult(f.Option) is not null).ToList();
            string Text((PropertyInfo Property, string JsonName, Option<string> Option) f) => result.GetValue(f.Option) ?? "true";
            if (result.GetValue(resume) is { } runDir)
            {
                if (File.Exists(runDir)) throw AnyResException.ForFile(runDir, $"is a file; --resume takes a run directory (the folder holding {TrainingRun.ResumeFileName})");
                var adjustable = new[] { "kimg", "tick", "snap", "keep" };
                if (given.FirstOrDefault(f => !adjustable.Contains(f.JsonName)) is { JsonName: { } bad })
                    throw new AnyResException($"--{bad.Replace('_', '-')} cannot change when resuming (only --kimg, --tick, --snap, --keep)");
                TrainingOptions Adjust(TrainingOptions o) => Apply(o, given.Select(f => (f.Property, f.JsonName, Text(f))));
                if (result.GetValue(dryRun))
                {
                    var saved = TrainingOptions.FromJson(File.ReadAllText(Path.Combine(runDir, TrainingRun.OptionsFileName)), runDir);
                    Console.WriteLine(Adjust(saved).ToJson());
                    return 0;
                }
                using var resumed = TrainingRun.Resume(runDir, device, Console.WriteLine, Adjust);
                return Train(resumed);
            }
            var options = Apply(TrainingOptions.Preset(result.GetValue(preset)!, stage), given.Select(f => (f.Property, f.JsonName, Text(f))));
            if (result.GetValue(dryRun))
            {
                Console.WriteLine(options.ToJson());
                return 0;
            }
            using var run = TrainingRun.Start(options, device, Console.WriteLine);
            return Train(run);
        }));
        return command;
    }

    static int Train(TrainingRun run)
    {
        Console.WriteLine($"malloc heap mode: {NativeSettings.Heap?.ToString().ToLowerInvariant() ?? "glibc default (MALLOC_* set)"} ({NativeSettings.HeapVariable} overrides; docs/training.md)");
        using var ctrlC = new CliCommon.CtrlC("stopping after this iteration; writing a snapshot");
        run.Progress = ProgressReporter.ForConsole(run.Options.Kimg);
        run.Run(ctrlC.Token);
        return 0;
    }

    /// <summary>Applies flag values (text) to the options through their JSON form, so each flag maps to exactly one property.</summary>
    static TrainingOptions Apply(TrainingOptions options, IEnumerable<(PropertyInfo Property, string JsonName, string Text)> values)
    {
        var json = JsonNode.Parse(options.ToJson())!.AsObject();
        foreach (var (property, name, text) in values) json[name] = Parse(property.PropertyType, name, text);
        return TrainingOptions.FromJson(json.ToJsonString(), "command line");
    }

    internal static JsonNode? Parse(Type type, string name, string text)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        string flag = "--" + name.Replace('_', '-');
        if (text is "none" or "null" && (Nullable.GetUnderlyingType(type) is not null || (t == typeof(string) && name is "teacher" or "data_hr" or "lpips" or "desc")))
            return null;
        if (t == typeof(string)) return JsonValue.Create(text);
        if (t.IsEnum)
        {
            // parity | log-zoom (also log_zoom, LogZoom): matched without separators, written as the JSON's snake case.
            var match = Enum.GetNames(t).FirstOrDefault(n => string.Equals(n, text.Replace("-", "").Replace("_", ""), StringComparison.OrdinalIgnoreCase));
            return match is not null ? JsonValue.Create(JsonNamingPolicy.SnakeCaseLower.ConvertName(match))
                : throw new AnyResException($"{flag} {text}: expected {TypeName(type)}");
        }
        if (t == typeof(bool))
            return text.ToLowerInvariant() switch
            {
                "1" or "true" or "yes" => JsonValue.Create(true),
                "0" or "false" or "no" => JsonValue.Create(false),
                _ => throw new AnyResException($"{flag} {text}: expected true/false or 1/0"),
            };
        if (t == typeof(int))
            return int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var i) ? JsonValue.Create(i) : throw new AnyResException($"{flag} {text}: expected an integer");
        if (t == typeof(double))
            return double.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var d) ? JsonValue.Create(d) : throw new AnyResException($"{flag} {text}: expected a number");
        throw new InvalidOperationException($"no parser for {type}");
    }

    static string TypeName(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (t.IsEnum) return string.Join("|", Enum.GetNames(t).Select(n => JsonNamingPolicy.KebabCaseLower.ConvertName(n)));
        return t == typeof(bool) ? "BOOL" : t == typeof(int) ? "INT" : t == typeof(double) ? "FLOAT" : "STR";
    }
}
