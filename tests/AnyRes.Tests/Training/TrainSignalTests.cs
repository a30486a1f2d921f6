using System.Diagnostics;
using AnyRes.Data;
using AnyRes.Tests.Data;

namespace AnyRes.Tests.Training;

public class TrainSignalTests
{
    /// <summary>
    /// `anyres train` as its own process, stopped with SIGTERM (kill, a batch scheduler's pre-emption) after its first ticks:
    /// it finishes the iteration, writes a snapshot and the resume state, and exits normally — nothing after the last tick is lost.
    /// </summary>
    [Fact]
    public async Task Sigterm_stops_training_after_the_iteration_with_a_snapshot()
    {
        using var dir = new TempDir();
        SynthImages.WriteSet(dir["data"], 8, 64, 128, seed: 3);
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "AnyRes.Cli.dll"), "train", "global", "--preset", "tiny", "--data", dir["data"], "--outdir", dir["runs"],
                "--cbase", "256", "--cmax", "16", "--z-dim", "16", "--kimg", "1000", "--tick", "0.008", "--snap", "1000", "--workers", "1" },
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var err = new System.Text.StringBuilder();
        using var ticked = new ManualResetEventSlim();
        process.ErrorDataReceived += (_, e) =>   // ticks and progress go to stderr, results to stdout
        {
            if (e.Data is null) return;
            lock (err) err.AppendLine(e.Data);
            if (e.Data.StartsWith("tick 2 ")) ticked.Set();
        };
        process.BeginErrorReadLine();
        var stdout = process.StandardOutput.ReadToEndAsync();
        try
        {
            Assert.True(ticked.Wait(TimeSpan.FromMinutes(3)), "no tick 2 within 3 minutes");
            Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
            Assert.True(process.WaitForExit(60_000), "still running a minute after SIGTERM");
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        process.WaitForExit();   // drains stderr
        Assert.Equal(0, process.ExitCode);
        lock (err) Assert.Contains("SIGTERM: stopping after this iteration", err.ToString());
        Assert.Contains("stopped at kimg", await stdout);
        var run = Assert.Single(Directory.GetDirectories(dir["runs"]));
        Assert.True(File.Exists(Path.Combine(run, "resume.safetensors")));
        Assert.True(Directory.GetFiles(run, "network-snapshot-*.safetensors").Length >= 2);   // tick 0 and the stop
    }
}
