using System.Diagnostics;
using AnyRes.Core;
using AnyRes.Data;
using AnyRes.Networks;
using AnyRes.Training;
using SkiaSharp;
using TorchSharp;

namespace AnyRes.Tests.Training;

/// <summary>
/// Kill anywhere, lose nothing (issue 23, item 1): runs <c>anyres train</c> as a child process, SIGKILLs it at seeded moments
/// (a random time, or the instant a network snapshot or the resume state is being written: while its temporary file exists),
/// checks after every kill that each snapshot and state file in the run folder reads, resumes with <c>--resume</c> (or starts
/// again when the kill came before the first resume state), and after the last kill lets it finish: the final resume state
/// (networks, optimizer moments, counters, latent RNG) and the final snapshot must equal an uninterrupted run's bit for bit.
/// Shared by the test (a few kills) and <c>AnyRes.Bench soak</c> (30 per stage).
/// </summary>
public sealed class KillSoak(string cliDll, string work, Action<string> log)
{
    public sealed record Outcome(int Kills, int DuringSnapshotWrite, int DuringResumeWrite, int Restarts, int FilesChecked, List<string> Problems);

    /// <summary>A small stage-1 run (channels 16, 2 iterations a tick, a snapshot every tick, the last 5 kept): many writes and deletions to be killed in.</summary>
    public static string[] Stage1(string data, double kimg) =>
        ["train", "global", "--preset", "tiny", "--data", data, "--cbase", "256", "--cmax", "16", "--z-dim", "16", "--workers", "1",
         "--tick", "0.008", "--snap", "1", "--keep", "5", "--kimg", kimg.ToString(System.Globalization.CultureInfo.InvariantCulture)];

    public static string[] Stage2(string data, string teacher, double kimg) =>
        ["train", "patch", "--preset", "tiny", "--data", data, "--data-hr", data, "--teacher", teacher, "--workers", "1",
         "--tick", "0.008", "--snap", "1", "--keep", "5", "--kimg", kimg.ToString(System.Globalization.CultureInfo.InvariantCulture)];

    /// <summary>Trains <paramref name="train"/> uninterrupted into <c>work/name-straight</c>; returns the run folder.</summary>
    public string Straight(string name, string[] train)
    {
        var outdir = Path.Combine(work, name + "-straight");
        int code = Child([.. train, "--outdir", outdir], (_, _) => false, out _);
        if (code != 0) throw new InvalidOperationException($"{name}: the uninterrupted run exited with {code}");
        return Directory.GetDirectories(outdir).Single();
    }

    /// <summary>Trains <paramref name="train"/> into <c>work/name-killed</c> with <paramref name="kills"/> kills, then compares with <paramref name="straightRun"/>.</summary>
    public Outcome Killed(string name, string[] train, string straightRun, int kills, int seed, double maxDelaySeconds)
    {
        var rng = new Random(seed);
        var outdir = Path.Combine(work, name + "-killed");
        var problems = new List<string>();
        int duringSnapshot = 0, duringResume = 0, restarts = 0, checkedFiles = 0;
        for (int k = 0; k <= kills; k++)
        {
            var runDir = Directory.Exists(outdir) ? Directory.GetDirectories(outdir).SingleOrDefault() : null;
            string[] args;
            if (runDir is not null && File.Exists(Path.Combine(runDir, TrainingRun.ResumeFileName))) args = ["train", train[1], "--resume", runDir];
            else
            {
                if (runDir is not null) { Directory.Delete(runDir, recursive: true); restarts++; }   // killed before its first resume state: nothing to lose yet
                args = [.. train, "--outdir", outdir];
            }
            if (k == kills)
            {
                int code = Child(args, (_, _) => false, out _);
                if (code != 0) problems.Add($"{name}: the final resumed run exited with {code}");
                break;
            }
            // Mode 0: a random moment; 1: while a network snapshot is written; 2: while the resume state is written.
            int mode = rng.Next(3);
            var deadline = TimeSpan.FromSeconds(rng.NextDouble() * maxDelaySeconds);
            Func<TimeSpan, int, bool> when = mode switch
            {
                0 => (t, _) => t >= deadline,
                1 => (t, pid) => t >= deadline && Writing(outdir, ".network-snapshot-", pid),
                _ => (t, pid) => t >= deadline && Writing(outdir, "." + TrainingRun.ResumeFileName, pid),
            };
            int exit = Child(args, when, out bool killed, out int child);
            if (!killed)
            {
                // Finished before its moment: a last resume of the finished run must change nothing (it is compared below).
                log($"{name}: the run finished before kill {k + 1} (mode {mode}, {deadline.TotalSeconds:F1} s)");
                if (exit != 0) problems.Add($"{name}: a resumed run exited with {exit}");
                if (Child(["train", train[1], "--resume", Directory.GetDirectories(outdir).Single()], (_, _) => false, out _) != 0) problems.Add($"{name}: resuming the finished run failed");
                kills = k;
                break;
            }
            runDir = Directory.Exists(outdir) ? Directory.GetDirectories(outdir).SingleOrDefault() : null;
            // The child's own temporary files (AtomicFile names them .NAME.PID.GUID.tmp); older ones are a previous kill's, until a resume removes them.
            var temps = runDir is null ? [] : Directory.GetFiles(runDir, $".*.{child}.*.tmp").Select(Path.GetFileName).ToArray();
            if (temps.Any(t => t!.StartsWith(".network-snapshot-"))) duringSnapshot++;
            if (temps.Any(t => t!.StartsWith("." + TrainingRun.ResumeFileName))) duringResume++;
            int n = runDir is null ? 0 : CheckReadable(runDir, problems);
            checkedFiles += n;
            log($"{name} kill {k + 1}/{kills}: mode {mode} after >= {deadline.TotalSeconds:F1} s, exit {exit}, temporary files [{string.Join(", ", temps)}], {n} files read");
        }
        var finalRun = Directory.GetDirectories(outdir).Single();
        checkedFiles += CheckReadable(finalRun, problems);
        if (Directory.GetFiles(finalRun, ".*.tmp").Length > 0) problems.Add($"{name}: temporary files left after the final run: {string.Join(", ", Directory.GetFiles(finalRun, ".*.tmp").Select(Path.GetFileName))}");
        CompareFinal(name, straightRun, finalRun, problems);
        return new Outcome(kills, duringSnapshot, duringResume, restarts, checkedFiles, problems);
    }

    static bool Writing(string outdir, string prefix, int pid)
    {
        try
        {
            return Directory.Exists(outdir) && Directory.EnumerateDirectories(outdir)
                .Any(d => Directory.EnumerateFiles(d, $"{prefix}*.{pid}.*.tmp").Any());
        }
        catch (IOException) { return false; }   // the run folder appeared or a file went while listing
    }

    /// <summary>Runs the CLI; polls <paramref name="killWhen"/> (with the time since start) every millisecond and SIGKILLs the process when it says so.</summary>
    int Child(string[] args, Func<TimeSpan, int, bool> killWhen, out bool killed) => Child(args, killWhen, out killed, out _);

    int Child(string[] args, Func<TimeSpan, int, bool> killWhen, out bool killed, out int pid)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(cliDll);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        pid = process.Id;
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        killed = false;
        while (!process.WaitForExit(1))
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(10)) { process.Kill(); throw new TimeoutException($"anyres {string.Join(' ', args)} ran 10 minutes"); }
            if (killWhen(clock.Elapsed, process.Id))
            {
                process.Kill();   // SIGKILL on Unix: no handler, no flush, no finally
                killed = true;
                break;
            }
        }
        process.WaitForExit();
        if (!killed && process.ExitCode != 0) lock (output) log($"anyres {string.Join(' ', args)} exited with {process.ExitCode}:\n{output}");
        return process.ExitCode;
    }

    /// <summary>Reads every snapshot and state file of the run folder as the verbs do; each failure is a problem. Returns the number of files read.</summary>
    static int CheckReadable(string runDir, List<string> problems)
    {
        int n = 0;
        foreach (var path in Directory.GetFiles(runDir).Where(p => !Path.GetFileName(p).StartsWith('.')))
        {
            var file = Path.GetFileName(path);
            // Each read in a loop of torch work: the fence keeps a finalizer from freeing a temporary under a native call.
            using var fence = FinalizerFence.Enter();
            using var scope = torch.NewDisposeScope();
            try
            {
                if (file == TrainingRun.ResumeFileName)
                {
                    var f = SafetensorsFile.Read(path);
                    foreach (var t in f.Tensors.Values) t.Dispose();
                    if (f.Metadata.GetValueOrDefault("anyres.format") != "resume/1") throw new InvalidDataException("no resume format");
                }
                else if (file.EndsWith(".safetensors"))
                {
                    var nets = NetworkCheckpoint.Load(path, torch.CPU);
                    nets.G?.Dispose(); nets.G_ema?.Dispose(); nets.D?.Dispose();
                }
                else if (file.EndsWith(".png"))
                {
                    using var data = SKData.Create(path);
                    ImageCodec.Decode(data, path);
                }
                else if (file == TrainingRun.OptionsFileName) TrainingOptions.FromJson(File.ReadAllText(path), path);
                else if (file == TrainingRun.StatsFileName)
                    foreach (var line in File.ReadAllLines(path)) System.Text.Json.Nodes.JsonNode.Parse(line);
                else continue;
                n++;
            }
            catch (Exception e)
            {
                problems.Add($"{path}: unreadable after a kill: {e.GetType().Name}: {e.Message}");
            }
        }
        return n;
    }

    /// <summary>The final resume states (every tensor) and the final network snapshots must be equal byte for byte.</summary>
    static void CompareFinal(string name, string straightRun, string killedRun, List<string> problems)
    {
        string Last(string dir) => Directory.GetFiles(dir, "network-snapshot-*.safetensors").Order(StringComparer.Ordinal).Last();
        foreach (var (a, b) in new[] { (Path.Combine(straightRun, TrainingRun.ResumeFileName), Path.Combine(killedRun, TrainingRun.ResumeFileName)), (Last(straightRun), Last(killedRun)) })
        {
            if (Path.GetFileName(a) != Path.GetFileName(b)) { problems.Add($"{name}: final snapshot {Path.GetFileName(b)}, uninterrupted {Path.GetFileName(a)}"); continue; }
            using var fence = FinalizerFence.Enter();
            var x = SafetensorsFile.Read(a);
            var y = SafetensorsFile.Read(b);
            try
            {
                if (!x.Tensors.Keys.Order().SequenceEqual(y.Tensors.Keys.Order())) problems.Add($"{name}: {Path.GetFileName(a)} holds other tensors");
                else
                    foreach (var (key, t) in x.Tensors)
                        if (!t.bytes.SequenceEqual(y.Tensors[key].bytes)) problems.Add($"{name}: {Path.GetFileName(a)}: {key} differs from the uninterrupted run");
                if (x.Metadata.GetValueOrDefault("counters") != y.Metadata.GetValueOrDefault("counters"))
                    problems.Add($"{name}: counters {y.Metadata.GetValueOrDefault("counters")} vs uninterrupted {x.Metadata.GetValueOrDefault("counters")}");
            }
            finally
            {
                foreach (var t in x.Tensors.Values.Concat(y.Tensors.Values)) t.Dispose();
            }
        }
    }
}
