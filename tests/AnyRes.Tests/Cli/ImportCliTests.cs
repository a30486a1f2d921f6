using AnyRes.Tests.Networks;
using AnyRes.Cli;
using AnyRes.Cli.Commands;
using AnyRes.Networks;
using SkiaSharp;

namespace AnyRes.Tests.Cli;

/// <summary>anyres import, and other verbs given a .pkl, end to end (in-process).</summary>
[Collection("Console"), Trait("Category", "Import")]
public class ImportCliTests
{
    static (int Code, string Out, string Err) Run(params string[] args) =>
        CliRunner.Run([ImportCommand.Create(), InfoCommand.Create(), GenerateCommand.Create()], args);

    /// <summary>Bytes of a string whose chars are all below 256 (pickle opcodes written as \u00NN escapes).</summary>
    static byte[] Latin1(string s) => System.Text.Encoding.Latin1.GetBytes(s);

    static string Official(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "official", name);

    [Fact]
    public void ImportWritesACheckpointAndPrintsWhatItHolds()
    {
        var out_ = Path.Combine(Directory.CreateTempSubdirectory("anyres-import").FullName, "patch.safetensors");
        var (code, stdout, stderr) = Run("import", Official("anyres_patch_32.pkl"), "--out", out_);
        Assert.True(code == 0, stderr);
        Assert.Contains("kind: stylegan3-t patch, 32x32 px", stdout);
        Assert.Contains("scale mapping: zoom 1..8", stdout);
        Assert.Contains("latents: z 16, w 16", stdout);
        var n = NetworkCheckpoint.Load(out_, TorchSharp.torch.CPU);
        Assert.True(n.G_ema!.HasScaleMapping);
        Assert.NotNull(n.D);
    }

    [Fact]
    public void BrokenAndHostileSnapshotsExitNonZeroWithOneLineAndNoOutput()
    {
        var dir = Directory.CreateTempSubdirectory("anyres-import").FullName;
        var evil = Path.Combine(dir, "evil.pkl");
        var marker = Path.Combine(dir, "ran");
        var cmd = $"touch {marker}";
        File.WriteAllBytes(evil, [.. Latin1("\u0080\u0002cos\nsystem\nX"), .. BitConverter.GetBytes(cmd.Length), .. Latin1(cmd), .. Latin1("\u0085R.")]);
        var empty = Path.Combine(dir, "empty.pkl");
        File.WriteAllBytes(empty, []);
        var misshaped = Path.Combine(AppContext.BaseDirectory, "extra-fixtures", "official_misshaped.pkl");
        foreach (var (file, reason) in new[] { (evil, "os.system"), (empty, "empty file"), (Path.Combine(dir, "missing.pkl"), "file not found"), (misshaped, "G.mapping.fc0.weight") })
        {
            var out_ = Path.Combine(dir, "out.safetensors");
            var (code, _, stderr) = Run("import", file, "--out", out_);
            Assert.Equal(CliCommon.UserError, code);
            Assert.Single(stderr.Trim().Split('\n'));
            Assert.Contains(reason, stderr);
            Assert.False(File.Exists(out_));
        }
        Assert.False(File.Exists(marker));
        var (genCode, _, genErr) = Run("generate", "--network", evil, "--seeds", "0", "--out", Path.Combine(dir, "gen"));
        Assert.Equal(CliCommon.UserError, genCode);
        Assert.Contains("os.system", genErr);
    }

    [Fact]
    public void VerbsTakeAPklDirectly()
    {
        OfficialSnapshotTests.UseTestCache();
        var dir = Directory.CreateTempSubdirectory("anyres-import").FullName;
        var (code, _, stderr) = Run("generate", "--network", Official("sg3t_global_32.pkl"), "--seeds", "0", "--size", "64x40", "--out", dir);
        Assert.True(code == 0, stderr);
        using (var bitmap = SKBitmap.Decode(Path.Combine(dir, "seed0000.png")))
            Assert.Equal((64, 40), (bitmap.Width, bitmap.Height));   // a global model renders any W×H through its input transform
        var (infoCode, info, infoErr) = Run("info", Official("sg3r_global_32.pkl"));
        Assert.True(infoCode == 0, infoErr);
        Assert.Contains("anyres.imported_kind=stylegan3-r global", info);
    }
}
