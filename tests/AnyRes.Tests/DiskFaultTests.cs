using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using AnyRes.Cli;
using AnyRes.Cli.Commands;
using AnyRes.Data;
using AnyRes.Tests.Data;

namespace AnyRes.Tests;

/// <summary>A test that mounts small tmpfs file systems: skipped, with the reason, where that is not allowed (not root, no CAP_SYS_ADMIN).</summary>
public sealed class MountFactAttribute : FactAttribute
{
    static readonly Lazy<string?> Refusal = new(() =>
    {
        if (geteuid() != 0) return "needs root to mount a small tmpfs (a full disk) and a read-only one";
        using var probe = new TempDir();
        try { using (new Tmpfs(probe.Path, "size=4k")) return null; }
        catch (Exception e) { return $"cannot mount a tmpfs here: {e.Message}"; }
    });

    public MountFactAttribute()
    {
        if (Refusal.Value is { } why) Skip = why;
    }

    [DllImport("libc")] static extern uint geteuid();
}

/// <summary>A tmpfs mounted at a folder for the test's lifetime; <see cref="Remount"/> changes its size or makes it read-only.</summary>
public sealed class Tmpfs : IDisposable
{
    public string Path { get; }

    public Tmpfs(string path, string options)
    {
        Directory.CreateDirectory(Path = path);
        Run("mount", "-t", "tmpfs", "-o", options, "tmpfs", path);
    }

    public void Remount(string options) => Run("mount", "-o", "remount," + options, Path);

    public void Dispose() => Run("umount", "-l", Path);

    static void Run(string tool, params string[] args)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new IOException($"{tool} {string.Join(' ', args)}: {err.Trim()}");
    }
}

/// <summary>
/// Full and read-only file systems (issue 23, item 2): training, generate, metrics and import each end with one line naming
/// the path and the reason, exit 2, the previous snapshot intact and no partial or temporary file left.
/// </summary>
[Collection("Console")]
public class DiskFaultTests
{
    static (int Code, string Out, string Err) Cli(params string[] args) =>
        CliRunner.Run([TrainCommand.Create(), GenerateCommand.Create(), InitCommand.Create(), ImportCommand.Create(), MetricsCommand.Create()], args);

    /// <summary>Exit 2 and one error line naming the path and the reason (progress lines may precede it; no stack trace).</summary>
    static void AssertOneLine((int Code, string Out, string Err) r, string path, string reason)
    {
        var errors = r.Err.Split('\n', StringSplitOptions.TrimEntries).Where(l => l.StartsWith("error: ")).ToArray();
        Assert.True(r.Code == CliCommon.UserError, $"exit {r.Code}\n{r.Err}");
        Assert.True(errors.Length == 1 && !r.Err.Contains("   at ") && !r.Err.Contains("Unhandled exception"), r.Err);
        Assert.Contains(path, errors[0]);
        Assert.Contains(reason, errors[0], StringComparison.OrdinalIgnoreCase);
    }

    static string Hashes(string dir) => string.Join("\n", Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
        .Select(p => $"{p} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p)))}"));

    [MountFact]
    public void Generate_import_and_metrics_refuse_a_full_or_read_only_folder_in_one_line_and_leave_nothing()
    {
        using var dir = new TempDir();
        var net = dir["net.safetensors"];
        Assert.Equal(0, Cli("init", "--cfg", "tiny", "--size", "16", "--out", net).Code);
        SynthImages.WriteSet(dir["data"], 4, 32, 48, 0);
        using var full = new Tmpfs(dir["full"], "size=16k");
        using var ro = new Tmpfs(dir["ro"], "size=64k");
        ro.Remount("ro");
        // Full: a filler takes every free block.
        var filler = Path.Combine(full.Path, "filler");
        try { using var f = File.Create(filler); while (true) f.Write(new byte[4096]); }
        catch (IOException) { }
        var pkl = Path.Combine(AppContext.BaseDirectory, "fixtures", "official", "sg3t_global_32.pkl");
        foreach (var (folder, reason) in new[] { (full.Path, "no space left on device"), (ro.Path, "read-only file system") })
        {
            AssertOneLine(Cli("generate", "--network", net, "--size", "64x64", "--out", folder), Path.Combine(folder, "seed0000.png"), reason);
            AssertOneLine(Cli("import", pkl, "--out", Path.Combine(folder, "x.safetensors")), Path.Combine(folder, "x.safetensors"), reason);
            AssertOneLine(Cli("metrics", "--network", net, "--data", dir["data"], "--metrics", "fd-full16", "--num", "2", "--batch", "2", "--cache", dir["cache"],
                "--out", Path.Combine(folder, "m.json")), Path.Combine(folder, "m.json"), reason);
            Assert.Empty(Directory.GetFileSystemEntries(folder).Where(p => p != filler));   // no partial file, no temporary file
        }
    }

    [MountFact]
    public void Training_on_a_disk_that_fills_or_turns_read_only_stops_in_one_line_with_its_last_snapshot_intact()
    {
        using var dir = new TempDir();
        SynthImages.WriteSet(dir["data"], 4, 70, 90, 0);
        using var disk = new Tmpfs(dir["disk"], "size=64m");
        var outdir = Path.Combine(disk.Path, "runs");
        string[] tiny = ["--preset", "tiny", "--cbase", "256", "--cmax", "16", "--z-dim", "16", "--workers", "1", "--tick", "0.004"];
        var first = Cli(["train", "global", "--data", dir["data"], "--outdir", outdir, "--kimg", "0.004", .. tiny]);
        Assert.True(first.Code == 0, first.Err);
        var run = Directory.GetDirectories(outdir).Single();
        var before = Hashes(disk.Path);

        // Full: room for a few more pages, not for the next snapshot.
        var drive = new DriveInfo(disk.Path);
        long used = drive.TotalSize - drive.AvailableFreeSpace;
        disk.Remount($"size={(used >> 10) + 16}k");
        AssertOneLine(Cli("train", "global", "--resume", run, "--kimg", "0.012"), run, "no space left on device");
        Assert.Empty(Directory.GetFiles(run, ".*.tmp"));
        foreach (var kept in before.Split('\n').Where(l => l.Contains(".safetensors ") || l.Contains(".png "))) Assert.Contains(kept, Hashes(disk.Path));

        disk.Remount("size=64m,ro");
        AssertOneLine(Cli("train", "global", "--resume", run, "--kimg", "0.012"), run, "read-only file system");
        foreach (var kept in before.Split('\n').Where(l => l.Contains(".safetensors ") || l.Contains(".png "))) Assert.Contains(kept, Hashes(disk.Path));
        disk.Remount("rw");
        var resumed = Cli("train", "global", "--resume", run, "--kimg", "0.008");   // the run continues once there is room
        Assert.True(resumed.Code == 0, resumed.Err);
    }
}
