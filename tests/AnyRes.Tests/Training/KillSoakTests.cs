using AnyRes.Data;
using AnyRes.Tests.Data;

namespace AnyRes.Tests.Training;

/// <summary>
/// The reduced form of the kill -9 soak (issue 23, item 1; 30 kills per stage: <c>AnyRes.Bench soak</c>, docs/reliability.md).
/// Alone: it runs training children on both cores and times its kills.
/// </summary>
[Collection(AloneCollection.Name)]
public class KillSoakTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void Training_killed_at_seeded_moments_keeps_readable_files_and_resumes_bit_identically()
    {
        using var dir = new TempDir();
        SynthImages.WriteSet(dir["data"], 8, 140, 200, seed: 3);
        var log = new List<string>();
        var soak = new KillSoak(Path.Combine(AppContext.BaseDirectory, "AnyRes.Cli.dll"), dir.Path, log.Add);
        var stage1 = KillSoak.Stage1(dir["data"], 0.016);
        var straight1 = soak.Straight("stage1", stage1);
        var outcome1 = soak.Killed("stage1", stage1, straight1, kills: 2, seed: 1, maxDelaySeconds: 5);
        Assert.True(outcome1.Problems.Count == 0, string.Join("\n", outcome1.Problems.Concat(log)));

        var teacher = Directory.GetFiles(straight1, "network-snapshot-*.safetensors").Order(StringComparer.Ordinal).Last();
        var stage2 = KillSoak.Stage2(dir["data"], teacher, 0.008);
        var straight2 = soak.Straight("stage2", stage2);
        var outcome2 = soak.Killed("stage2", stage2, straight2, kills: 1, seed: 2, maxDelaySeconds: 5);
        Assert.True(outcome2.Problems.Count == 0, string.Join("\n", outcome2.Problems.Concat(log)));
        foreach (var line in log) output.WriteLine(line);
        Assert.True(outcome1.FilesChecked + outcome2.FilesChecked > 0, string.Join("\n", log));
    }
}
