using AnyRes.Training;

namespace AnyRes.Tests.Training;

public class ProgressReporterTests
{
    /// <summary>Redirected output (CI, a log file): the first update prints at once, later ones wait for the interval.</summary>
    [Fact]
    public void PlainOutputPrintsTheFirstUpdateThenThrottles()
    {
        var output = new StringWriter();
        var reporter = new ProgressReporter(output, interactive: false, totalKimg: 2);
        reporter.Update(0.004, 1, [("Loss/G", 0.5)]);
        reporter.Update(0.008, 2, [("Loss/G", 0.4)]);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("kimg 0.004/2", lines[0]);
        Assert.Contains("Loss/G 0.500", lines[0]);
        reporter.Update(0.012, 3, [("Loss/G", 0.3)], force: true);
        Assert.Equal(2, output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void TerminalOutputRedrawsOneLine()
    {
        var output = new StringWriter();
        var reporter = new ProgressReporter(output, interactive: true, totalKimg: 2);
        reporter.Update(1, 10, []);
        Assert.StartsWith("\r[##########----------]  50.0%", output.ToString());
        reporter.Finish();
        Assert.EndsWith(Environment.NewLine, output.ToString());
    }
}
