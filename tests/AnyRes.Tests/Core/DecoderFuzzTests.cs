namespace AnyRes.Tests.Core;

/// <summary>
/// The reduced form of the decoder fuzz (issue 23, item 5; the 10,000-input run is <c>AnyRes.Bench fuzz</c>, docs/reliability.md):
/// the same deterministic mutations, fewer of them.
/// </summary>
public class DecoderFuzzTests
{
    [Fact]
    public void Mutated_images_checkpoints_and_snapshots_are_accepted_or_refused_in_one_line()
    {
        var scratch = Directory.CreateTempSubdirectory("anyres-fuzz").FullName;
        try
        {
            var targets = DecoderFuzzer.Targets(Path.Combine(AppContext.BaseDirectory, "fixtures", "official", "sg3t_global_32.pkl"), scratch);
            var report = DecoderFuzzer.Run(targets, first: 0, count: 100, scratch);
            Assert.Equal(400, report.Inputs);
            Assert.True(report.Failures.Count == 0, string.Join("\n", report.Failures.Take(10)));
            // The mutations must reach the decoders' checks, not only flip pixels or weights: most inputs are refused, by many distinct checks.
            Assert.True(report.Refused > report.Inputs / 2, $"only {report.Refused} of {report.Inputs} refused");
            Assert.True(report.Reasons.Count >= 12, string.Join("\n", report.Reasons.Keys));
        }
        finally { Directory.Delete(scratch, recursive: true); }
    }
}
