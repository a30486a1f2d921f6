using System.Diagnostics;
using AnyRes.Data;
using AnyRes.Tests.Training;

namespace AnyRes.Bench;

/// <summary>
/// The kill -9 soak of issue 23 at full size: <c>soak [--kills 30] [--seed 0] [--kimg1 0.08] [--kimg2 0.04] [--cli PATH] [--keep-work]</c>
/// trains stage 1 and then stage 2 (its teacher the uninterrupted stage 1) of a small tiny-preset run uninterrupted and again
/// with --kills SIGKILLs each, and prints the kills (how many landed while a snapshot or the resume state was being written),
/// the files read after them and every problem. Exit 1 on any problem.
/// </summary>
public static class SoakBench
{
    public static int Run(string[] args)
    {
        string Opt(string name, string fallback) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        int kills = int.Parse(Opt("--kills", "30")), seed = int.Parse(Opt("--seed", "0"));
        double kimg1 = double.Parse(Opt("--kimg1", "0.08"), inv), kimg2 = double.Parse(Opt("--kimg2", "0.04"), inv);
        var cli = Path.GetFullPath(Opt("--cli", Path.Combine("src", "AnyRes.Cli", "bin", "Release", "net10.0", "AnyRes.Cli.dll")));
        var work = Directory.CreateTempSubdirectory("anyres-soak").FullName;
        var clock = Stopwatch.StartNew();
        void Log(string line) => Console.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] {line}");
        try
        {
            var data = Path.Combine(work, "data");
            SynthImages.WriteSet(data, 8, 140, 200, 3);
            var soak = new KillSoak(cli, work, Log);
            var straight1 = soak.Straight("stage1", KillSoak.Stage1(data, kimg1));
            Log($"stage 1 uninterrupted: {straight1}");
            var teacher = Directory.GetFiles(straight1, "network-snapshot-*.safetensors").Order(StringComparer.Ordinal).Last();
            var straight2 = soak.Straight("stage2", KillSoak.Stage2(data, teacher, kimg2));
            Log($"stage 2 uninterrupted: {straight2}");
            var outcomes = new[]
            {
                ("stage 1", soak.Killed("stage1", KillSoak.Stage1(data, kimg1), straight1, kills, seed, 20)),
                ("stage 2", soak.Killed("stage2", KillSoak.Stage2(data, teacher, kimg2), straight2, kills, seed + 1, 20)),
            };
            int problems = 0;
            foreach (var (stage, o) in outcomes)
            {
                Console.WriteLine($"{stage}: {o.Kills} kills ({o.DuringSnapshotWrite} while a network snapshot was written, {o.DuringResumeWrite} while the resume state was), "
                    + $"{o.Restarts} restarts before a first resume state, {o.FilesChecked} file reads after kills, {o.Problems.Count} problems; final state {(o.Problems.Any(p => p.Contains("differs") || p.Contains("counters")) ? "DIFFERS" : "bit-identical")}");
                foreach (var p in o.Problems) Console.WriteLine("  PROBLEM " + p);
                problems += o.Problems.Count;
            }
            Log($"done (kimg {kimg1} / {kimg2}, seed {seed})");
            return problems == 0 ? 0 : 1;
        }
        finally
        {
            if (!args.Contains("--keep-work")) Directory.Delete(work, recursive: true);
            else Console.WriteLine($"work folder kept: {work}");
        }
    }
}
