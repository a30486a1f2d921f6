using System.Diagnostics;
using AnyRes.Tests.Core;

namespace AnyRes.Bench;

/// <summary>
/// The decoder fuzz of issue 23 at full size: <c>fuzz [--count 10000] [--first 0] [--format jpeg|png|safetensors|pkl] [--pkl PATH]</c> decodes that many mutations
/// of a JPEG, a PNG, an AnyRes checkpoint and an official snapshot (default: ../shared/fixtures/official/sg3t_global_32.pkl)
/// and prints, per format, how many were accepted and refused, the slowest input, every failure and the refusal reasons.
/// Exit 1 when any input failed (an exception other than one AnyResException line, or no answer within 5 s).
/// </summary>
public static class FuzzBench
{
    public static int Run(string[] args)
    {
        string Opt(string name, string fallback) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
        int count = int.Parse(Opt("--count", "10000")), first = int.Parse(Opt("--first", "0"));
        var pkl = Opt("--pkl", Path.Combine("..", "shared", "fixtures", "official", "sg3t_global_32.pkl"));
        var scratch = Directory.CreateTempSubdirectory("anyres-fuzz").FullName;
        int failures = 0;
        try
        {
            foreach (var target in DecoderFuzzer.Targets(pkl, scratch).Where(t => Opt("--format", t.Format) == t.Format))
            {
                var watch = Stopwatch.StartNew();
                var r = DecoderFuzzer.Run([target], first, count, scratch, Console.Error.WriteLine);
                failures += r.Failures.Count;
                Console.WriteLine($"{target.Format} ({target.Valid.Length} bytes): {r.Inputs} inputs, {r.Accepted} accepted, {r.Refused} refused in one line, "
                    + $"{r.Failures.Count} failures; {watch.Elapsed.TotalSeconds:F1} s, slowest {r.MaxSeconds:F2} s ({r.SlowestInput})");
                foreach (var f in r.Failures) Console.WriteLine($"  FAILURE #{f.Index} {f.Mutation}: {f.What}");
                foreach (var (reason, n) in r.Reasons.OrderByDescending(kv => kv.Value)) Console.WriteLine($"  {n,6}  {reason}");
            }
        }
        finally { Directory.Delete(scratch, recursive: true); }
        return failures == 0 ? 0 : 1;
    }
}
