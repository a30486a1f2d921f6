using System.Security.Cryptography;
using AnyRes.Cli;
using AnyRes.Cli.Commands;
using AnyRes.Data;

namespace AnyRes.Tests;

/// <summary>
/// Every verb's bad input (issue 23, item 4; the table in docs/reliability.md): each case runs the CLI in-process and must end
/// with exit 2, exactly one line on stderr that starts with "error:" and says what is wrong, no stack trace, and not one file
/// of the folder it works in created, changed or removed.
/// </summary>
[Collection("Console")]
public class BadInputTests(BadInputTests.Files files) : IClassFixture<BadInputTests.Files>
{
    /// <summary>The files the cases point at: datasets, checkpoints (good, truncated, empty, not one), a run folder, a plain file.</summary>
    public sealed class Files : IDisposable
    {
        public string Dir { get; } = Directory.CreateTempSubdirectory("anyres-bad-input").FullName;

        public Files()
        {
            SynthImages.WriteSet(Path.Combine(Dir, "data"), 4, 140, 200, 0);
            SynthImages.WriteSet(Path.Combine(Dir, "small"), 3, 8, 12, 0);
            Directory.CreateDirectory(Path.Combine(Dir, "empty"));
            foreach (var (name, extra) in new[] { ("s1", ""), ("s2", "--patch") })
            {
                var args = new[] { "init", "--cfg", "tiny", "--size", "16", "--out", Path.Combine(Dir, name + ".safetensors"), extra }.Where(a => a != "").ToArray();
                var (code, _, err) = CliRunner.Run([InitCommand.Create()], args);
                if (code != 0) throw new InvalidOperationException(err);
            }
            var good = File.ReadAllBytes(Path.Combine(Dir, "s1.safetensors"));
            File.WriteAllBytes(Path.Combine(Dir, "truncated.safetensors"), good[..(good.Length / 2)]);
            File.WriteAllBytes(Path.Combine(Dir, "zero.safetensors"), []);
            File.WriteAllText(Path.Combine(Dir, "text.safetensors"), "not a checkpoint\n");
            File.WriteAllText(Path.Combine(Dir, "text.pkl"), "not a pickle\n");
            File.WriteAllText(Path.Combine(Dir, "file"), "an existing file\n");
            // A run folder whose resume file is a network checkpoint, and one whose resume file was cut short.
            foreach (var (run, bytes) in new[] { ("run", good), ("run-truncated", good[..1000]) })
            {
                Directory.CreateDirectory(Path.Combine(Dir, run));
                File.WriteAllText(Path.Combine(Dir, run, "training_options.json"), "{}");
                File.WriteAllBytes(Path.Combine(Dir, run, "resume.safetensors"), bytes);
            }
        }

        public void Dispose() => Directory.Delete(Dir, recursive: true);
    }

    const string TinyPatch = "train patch --preset tiny --data {d}/data --data-hr {d}/data --outdir {d}/runs";

    /// <summary>(case, command line with {d} = the folder of <see cref="Files"/>, what the one line must say).</summary>
    public static TheoryData<string, string, string> Cases => new()
    {
        { "resume-other-config", "train global --resume {d}/run --cfg stylegan3-r", "--cfg cannot change when resuming" },
        { "resume-a-checkpoint-file", "train global --resume {d}/s1.safetensors", "is a file; --resume takes a run directory" },
        { "resume-not-a-resume-file", "train global --resume {d}/run", "not an AnyRes resume file" },
        { "resume-truncated", "train global --resume {d}/run-truncated", "run-truncated/resume.safetensors: not a safetensors file" },
        { "teacher-other-size", TinyPatch + " --teacher {d}/s1.safetensors", "has resolution 16, the run uses 64 (--g-size)" },
        { "teacher-stage-2", TinyPatch + " --g-size 16 --data-resolution 16 --teacher {d}/s2.safetensors", "the teacher must be a stage-1 model" },
        { "teacher-truncated", TinyPatch + " --teacher {d}/truncated.safetensors", "truncated.safetensors: tensor" },
        { "teacher-zero-bytes", TinyPatch + " --teacher {d}/zero.safetensors", "zero.safetensors: not a safetensors file" },
        { "teacher-not-a-checkpoint", TinyPatch + " --teacher {d}/text.safetensors", "text.safetensors: not a safetensors file" },
        { "network-truncated", "generate --network {d}/truncated.safetensors --out {d}/g", "truncated.safetensors: tensor" },
        { "network-zero-bytes", "info {d}/zero.safetensors", "zero.safetensors: not a safetensors file" },
        { "network-not-a-checkpoint", "generate --network {d}/text.safetensors --out {d}/g", "text.safetensors: not a safetensors file" },
        { "import-zero-bytes", "import {d}/zero.safetensors --out {d}/i.safetensors", "empty file (0 bytes)" },
        { "import-not-a-pickle", "import {d}/text.pkl --out {d}/i.safetensors", "not a pickle" },
        { "size-0x0", "generate --network {d}/s1.safetensors --size 0x0 --out {d}/g", "--size: cannot read '0x0'" },
        { "size-huge", "generate --network {d}/s1.safetensors --size 1000000x1000000 --out {d}/g", "exceeds the limit of 268435456 pixels (--max-pixels)" },
        { "zoom-size-huge", "zoom --network {d}/s1.safetensors --size 1000000x1000000 --frames 2 --out {d}/z", "exceeds the limit of 268435456 pixels (--max-pixels)" },
        { "seeds-reversed", "generate --network {d}/s1.safetensors --seeds 5-1 --out {d}/g", "--seeds: cannot read '5-1'" },
        { "seeds-not-numbers", "generate --network {d}/s1.safetensors --seeds abc --out {d}/g", "--seeds: cannot read 'abc'" },
        { "region-outside-canvas", "generate --network {d}/s1.safetensors --region 2,2,3,3 --out {d}/g", "lies wholly outside the frame" },
        { "zoom-center-outside", "zoom --network {d}/s1.safetensors --center 5,5 --frames 2 --out {d}/z", "--center 5,5: expected a point of the frame" },
        { "trunc-cutoff-negative", "generate --network {d}/s1.safetensors --trunc-cutoff -3 --out {d}/g", "--trunc-cutoff -3" },
        { "kimg-negative", "train global --preset tiny --data {d}/data --outdir {d}/runs --kimg -1", "--kimg -1" },
        { "kimg-not-a-number", "train global --preset tiny --data {d}/data --outdir {d}/runs --kimg abc", "--kimg abc: expected a number" },
        { "gpus-zero", "train global --preset tiny --data {d}/data --outdir {d}/runs --gpus 0", "--gpus 0" },
        { "gamma-negative", "train global --preset tiny --data {d}/data --outdir {d}/runs --gamma -1", "--gamma must be at least 0" },
        { "dataset-empty", "train global --preset tiny --data {d}/empty --outdir {d}/runs", "empty: no images found" },
        { "dataset-missing", "train global --preset tiny --data {d}/missing --outdir {d}/runs", "missing: no such file or folder" },
        { "dataset-all-below-base-size", "train global --preset tiny --data {d}/small --outdir {d}/runs", "all 3 images are too small for these settings (largest:" },
        { "data-hr-too-small-for-zoom", TinyPatch + " --scale-max 0.25 --teacher {d}/s1.safetensors", "smaller than the smallest virtual size p/scale-max = 256" },
        { "generate-out-is-a-file", "generate --network {d}/s1.safetensors --out {d}/file", "file: is a file, not a folder" },
        { "zoom-out-is-a-file", "zoom --network {d}/s1.safetensors --frames 2 --out {d}/file", "file: is a file, not a folder" },
        { "synth-out-is-a-file", "dataset synth --count 2 --out {d}/file", "file: is a file, not a folder" },
        { "outdir-is-a-file", "train global --preset tiny --data {d}/data --outdir {d}/file --kimg 0.004", "file: is a file, not a folder" },
        { "metrics-out-under-a-file", "metrics --network {d}/s1.safetensors --data {d}/data --metrics fd-full16 --num 4 --out {d}/file/m.json", "file: is a file, not a folder" },
        { "init-out-exists", "init --cfg tiny --size 16 --out {d}/s2.safetensors", "s2.safetensors: already exists; not overwritten" },
        { "import-out-exists", "import {d}/text.pkl --out {d}/s1.safetensors", "s1.safetensors: already exists; not overwritten" },
        { "demo-out-holds-a-run", "demo --bundled none --minutes 3 --out {d}/run", "holds no earlier demo" },
        { "reproduce-out-holds-a-run", "reproduce --data {d}/data --minutes 1 --out {d}/run", "is not empty and holds no reproduce.json" },
        { "device-unknown", "generate --network {d}/s1.safetensors --device foo --out {d}/g", "--device foo: expected cpu, cuda or cuda:N" },
        { "device-cuda-on-cpu-build", "train global --preset tiny --data {d}/data --outdir {d}/runs --device cuda", "--device cuda: CUDA is not available in this build" },
        { "unknown-flag", "generate --network {d}/s1.safetensors --colour red --out {d}/g", "Unrecognized command or argument '--colour'" },
        { "port-out-of-range", "serve --network {d}/s1.safetensors --port 99999", "--port 99999: expected 0..65535" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fails_in_one_line_and_changes_nothing(string name, string commandLine, string expected)
    {
        var before = Tree(files.Dir);
        var args = commandLine.Replace("{d}", files.Dir).Split(' ');
        var (code, _, err) = CliRunner.Run([TrainCommand.Create(), GenerateCommand.Create(), ZoomCommand.Create(), InitCommand.Create(), InfoCommand.Create(),
            ImportCommand.Create(), DatasetCommand.Create(), MetricsCommand.Create(), ServeCommand.Create(), DemoCommand.Create(), ReproduceCommand.Create()], args);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(code == CliCommon.UserError, $"{name}: exit {code}\n{err}");
        Assert.True(lines.Length == 1 && lines[0].StartsWith("error: "), $"{name}: expected one error line, got:\n{err}");
        Assert.Contains(expected, lines[0]);
        Assert.Equal(before, Tree(files.Dir));
    }

    /// <summary>Every file under <paramref name="dir"/> with a hash of its bytes, and every folder (not a dataset's header cache, which reading a dataset may write).</summary>
    static string Tree(string dir) => string.Join("\n",
        Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Where(p => Path.GetFileName(p) != ".anyres-index.json").Order(StringComparer.Ordinal)
            .Select(p => File.Exists(p) ? $"{p} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p)))}" : p + "/"));
}
