using AnyRes.Tests.Data;
using System.CommandLine;
using AnyRes.Cli;
using AnyRes.Cli.Commands;
using AnyRes.Data;
using SkiaSharp;

namespace AnyRes.Tests.Cli;

/// <summary>The dataset verbs end to end (in-process): output lines, exit codes, no stack traces.</summary>
[Collection("Console")]
public class DatasetCommandTests
{
    static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run([DatasetCommand.Create()], args);

    [Fact]
    public void InspectReportsEveryCorruptAndUnusualFileWithoutAStackTrace()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["ok.png"], TestData.Encode(SynthImages.Make(1, 0, 300, 300), SKEncodedImageFormat.Png));
        File.WriteAllBytes(dir["tilted.jpg"], TestData.WithExifOrientation(TestData.Encode(TestData.Smooth(40, 30), SKEncodedImageFormat.Jpeg), 6));
        File.WriteAllBytes(dir["grey16.png"], Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAYAAAAEEAAAAADY/83cAAAAJElEQVR4nGNkYOBazb2aezXXau7VLA5MXEzcTNxMXEzcTLg5AL8WBR2O8zWhAAAAAElFTkSuQmCC"));
        File.WriteAllBytes(dir["text.jpg"], "hello"u8.ToArray());
        File.WriteAllBytes(dir["empty.webp"], []);
        File.WriteAllBytes(dir["bomb.png"], TestData.PngHeaderOnly(40000, 40000));
        var jpeg = TestData.Encode(SynthImages.Make(2, 0, 200, 200), SKEncodedImageFormat.Jpeg);
        File.WriteAllBytes(dir["cut.jpg"], jpeg[..(jpeg.Length / 3)]);
        File.WriteAllBytes(dir["fake.tif"], "II*\0garbage-after-the-magic"u8.ToArray());

        var (code, stdout, stderr) = Run("dataset", "inspect", dir.Path, "--size", "16");
        Assert.Equal(0, code);
        Assert.Contains("3 readable, 5 unreadable", stdout);
        foreach (var bad in new[] { "text.jpg", "empty.webp", "bomb.png", "cut.jpg", "fake.tif" })
            Assert.Single(stdout.Split('\n'), l => l.StartsWith("unreadable") && l.Contains(bad));
        Assert.Contains("--scale-max", stdout);
        Assert.DoesNotContain("   at ", stdout + stderr);
    }

    [Fact]
    public void MissingAndEmptyPathsFailWithOneLine()
    {
        using var dir = new TempDir();
        var (code, _, stderr) = Run("dataset", "inspect", dir["missing"]);
        Assert.Equal(CliCommon.UserError, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("missing", stderr);
        Directory.CreateDirectory(dir["none"]);
        (code, _, stderr) = Run("dataset", "patches", dir["none"], "--out", dir["grid.png"]);
        Assert.Equal(CliCommon.UserError, code);
        Assert.Contains("no images", stderr);
        Assert.False(File.Exists(dir["grid.png"]));
    }

    [Fact]
    public void SynthThenPatchesWritesAContactSheet()
    {
        using var dir = new TempDir();
        Assert.Equal(0, Run("dataset", "synth", "--out", dir["set"], "--count", "4", "--min-size", "40", "--max-size", "80").Code);
        var (code, stdout, _) = Run("dataset", "patches", dir["set"], "--size", "32", "--count", "5", "--out", dir["grid.png"]);
        Assert.Equal(0, code);
        Assert.Contains("wrote 5 patches", stdout);
        using var data = SKData.Create(dir["grid.png"]);
        var header = ImageCodec.ReadHeader(data, "grid.png");
        Assert.True(header.Width > 3 * 32 && header.Height > 2 * 32);
    }

    [Fact]
    public void Synth_classes_then_inspect_cond_counts_each_class_and_reports_mismatches_in_one_line()
    {
        using var dir = new TempDir();
        var (code, stdout, stderr) = Run("dataset", "synth", "--out", dir["two"], "--count", "5", "--min-size", "40", "--max-size", "60", "--classes", "2");
        Assert.True(code == 0, stderr);
        Assert.Contains("in 2 class folders", stdout);
        (code, stdout, stderr) = Run("dataset", "inspect", dir["two"], "--size", "32", "--cond");
        Assert.True(code == 0, stderr);
        Assert.Contains("classes     2", stdout);
        Assert.Matches(@"\n\s+0 00-earth-discs\s+3 images  short side p5=\d+", stdout);
        Assert.Matches(@"\n\s+1 01-fire-boxes\s+2 images", stdout);

        File.WriteAllText(dir["two/dataset.json"], """{"labels": [["00-earth-discs/synth_00000.png", 0]]}""");
        (code, _, stderr) = Run("dataset", "inspect", dir["two"], "--cond");
        Assert.NotEqual(0, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("4 images without a label: 00-earth-discs/synth_00002.png", stderr);
    }

    [Fact]
    public void Inspect_cond_prints_a_short_side_histogram_per_class()
    {
        using var dir = new TempDir();
        foreach (var (name, w, h) in new[] { ("a/1.png", 45, 50), ("a/2.png", 60, 47), ("a/3.png", 130, 100), ("b/1.png", 300, 70) })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(dir[name])!);
            File.WriteAllBytes(dir[name], TestData.Encode(TestData.Smooth(w, h), SKEncodedImageFormat.Png));
        }
        var (code, stdout, stderr) = Run("dataset", "inspect", dir.Path, "--size", "32", "--cond");
        Assert.True(code == 0, stderr);
        // Class a: short sides 45, 47 (bin 0-63) and 100 (64-127); class b: 70 (64-127); then the histogram of all images.
        // The flag keeps the smallest image: 32/45 = 0.71111 rounds up to 0.7112 (p/0.7112 = 44.994; 0.7111 would exclude it).
        Assert.Contains("--scale-max 0.7112 ", stdout);
        using (var source = ImageSource.Open(dir.Path, useCache: false))
            Assert.Empty(new PatchDataset(source, new PatchDatasetOptions { Size = 32, ScaleMax = 0.7112 }).Excluded);
        Assert.Matches(@"\n +0 a +3 images[^\n]*\n +0-63 +2  #+\n +64-127 +1  #+\n +1 b +1 images[^\n]*\n +64-127 +1  #+\nshort side  histogram\n +0-63 +2  #+\n +64-127 +2  #+\n", stdout.ReplaceLineEndings("\n"));
    }
}
