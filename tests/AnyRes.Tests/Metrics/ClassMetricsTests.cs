using System.Text.Json.Nodes;
using AnyRes.Cli.Commands;
using AnyRes.Core;
using AnyRes.Data;
using AnyRes.Metrics;
using AnyRes.Networks;
using TorchSharp;
using static TorchSharp.torch;
using Generator = AnyRes.Networks.Generator;

namespace AnyRes.Tests.Metrics;

/// <summary>A two-class synthetic set of 5 images, one folder per class: class 0 has images 0, 2, 4 and class 1 images 1, 3.</summary>
public sealed class FiveImageClasses : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), $"anyres-classmetrics-{Guid.NewGuid():N}");
    public string Data => Path.Combine(Root, "data");
    public IReadOnlyList<string> Names { get; } = [SynthImages.ClassName(0), SynthImages.ClassName(1)];

    public FiveImageClasses() => SynthImages.WriteSet(Data, 5, 48, 96, seed: 21, classes: 2);

    public void Dispose() => Directory.Delete(Root, true);
}

/// <summary>Per-class and all-class metrics (issue 22): the reals of one class only, the fakes' classes chosen by the runner.</summary>
public class ClassMetricsTests(FiveImageClasses set) : IClassFixture<FiveImageClasses>
{
    /// <summary>Features = channel means and deviations (cheap).</summary>
    sealed class ChannelDetector : IFeatureExtractor
    {
        public string Name => "test";
        public int NativeSize => 24;
        public Device Device => CPU;
        public Tensor Extract(Tensor images255) => cat([images255.mean([2, 3]), images255.std([2, 3])], 1);
    }

    /// <summary>Records the classes each call is given; images are noise.</summary>
    sealed class ClassRecorder : IMetricGenerator
    {
        public List<long> Classes { get; } = [];
        public int Resolution => 32;
        public int ZDim => 4;
        public Device Device => CPU;
        public string Identity => "class-recorder";
        Tensor Images(Tensor z, int size, Tensor? classes)
        {
            Classes.AddRange(classes!.data<long>().ToArray());
            return rand(z.shape[0], 3, size, size) * 2 - 1;
        }
        public Tensor Patches(Tensor z, Tensor transforms, Tensor? classes = null) => Images(z, Resolution, classes);
        public Tensor Full(Tensor z, int size, Tensor? classes = null) => Images(z, size, classes);
        public Tensor Upsampled(Tensor z, int size, Tensor? classes = null) => Images(z, size, classes);
    }

    static MetricOptions Options(MetricClasses? classes) => new() { Num = 8, Batch = 4, Seed = 7, Classes = classes };

    /// <summary>
    /// The reals of class k are exactly those of a set holding only class k's folder (same images in the same order, same
    /// crops and patches): full images and native-size patches alike. All-class reals are every image.
    /// </summary>
    [Theory]
    [InlineData("fd-full32")]
    [InlineData("fd-patch32-min32max0")]
    public void Per_class_reals_are_the_images_of_that_class_only(string metric)
    {
        using var scope = NewDisposeScope();
        var spec = MetricSpec.Parse(metric);
        var detector = new ChannelDetector();
        using var all = ImageSource.Open(set.Data, useCache: false);
        int[] perClass = [3, 2];
        for (int k = 0; k < 2; k++)
        {
            using var only = ImageSource.Open(Path.Combine(set.Data, set.Names[k]), useCache: false);
            var filtered = new MetricRunner(detector, Options(new MetricClasses(2, set.Names, k)), all, all).RealStatistics(spec, 32, out var t1, out _);
            var alone = new MetricRunner(detector, Options(null), only, only).RealStatistics(spec, 32, out var t2, out _);
            Assert.Equal(spec.PatchLike ? 8 : perClass[k], filtered.Count);   // full images: every image of the class once (Num = 8 > 3)
            Close.Assert(filtered.Features(), alone.Features(), 0, 0, $"class {k} reals");
            if (spec.PatchLike) Close.Assert(t1!, t2!, 0, 0, $"class {k} patch transforms");
        }
        var everything = new MetricRunner(detector, Options(new MetricClasses(2, set.Names)), all, all).RealStatistics(spec, 32, out _, out _);
        var unlabelled = new MetricRunner(detector, Options(null), all, all).RealStatistics(spec, 32, out _, out _);
        Assert.Equal(spec.PatchLike ? 8 : 5, everything.Count);
        Close.Assert(everything.Features(), unlabelled.Features(), 0, 0, "all-class reals = all reals");
    }

    /// <summary>One class: every fake gets it. All classes: the classes of random real items, so 3 : 2 here, and the same again for the same seed.</summary>
    [Fact]
    public void Fakes_get_one_class_or_the_data_proportions()
    {
        using var all = ImageSource.Open(set.Data, useCache: false);
        var specs = new[] { MetricSpec.Parse("fd-full32") };
        var one = new ClassRecorder();
        var runner = new MetricRunner(new ChannelDetector(), Options(new MetricClasses(2, set.Names, 1)), all, all);
        runner.Run(one, specs);
        Assert.Equal(Enumerable.Repeat(1L, 8), one.Classes);
        Assert.Equal(2, runner.RealCounts["full32"]);

        var options = new MetricOptions { Num = 600, Batch = 100, Seed = 7, Classes = new MetricClasses(2, set.Names) };
        var mixed = new ClassRecorder();
        runner = new MetricRunner(new ChannelDetector(), options, all, all);
        runner.Run(mixed, specs);
        Assert.Equal(5, runner.RealCounts["full32"]);
        double share0 = mixed.Classes.Count(c => c == 0) / 600.0;
        Assert.InRange(share0, 0.6 - 0.08, 0.6 + 0.08);   // 4 standard deviations of a binomial share of 600 draws
        var again = new ClassRecorder();
        new MetricRunner(new ChannelDetector(), options, all, all).Run(again, specs);
        Assert.Equal(mixed.Classes, again.Classes);
    }

    [Fact]
    public void Data_with_other_classes_than_the_network_is_refused_in_one_line()
    {
        using var all = ImageSource.Open(set.Data, useCache: false);
        var runner = new MetricRunner(new ChannelDetector(), Options(new MetricClasses(2, ["birds", "cats"], 0)), all, all);
        var e = Assert.Throws<AnyResException>(() => runner.Run(new ClassRecorder(), [MetricSpec.Parse("fd-full32")]));
        Assert.Equal($"{all.Location}: has classes [\"{set.Names[0]}\",\"{set.Names[1]}\"], the network [\"birds\",\"cats\"]", e.Message);
        runner = new MetricRunner(new ChannelDetector(), Options(new MetricClasses(3, null, 0)), all, all);
        e = Assert.Throws<AnyResException>(() => runner.Run(new ClassRecorder(), [MetricSpec.Parse("fd-full32")]));
        Assert.EndsWith("the network 3 classes", e.Message);
    }
}

/// <summary><c>anyres metrics --per-class</c> end to end on a tiny conditional network with the shipped ResNet18.</summary>
[Collection("Console")]
public class PerClassMetricsCliTests(FiveImageClasses set) : IClassFixture<FiveImageClasses>
{
    [Fact]
    public void Per_class_records_use_each_class_reals_and_match_a_class_alone()
    {
        var dir = Path.Combine(set.Root, "run");
        Directory.CreateDirectory(dir);
        var network = Path.Combine(dir, "network.safetensors");
        using (var scope = NewDisposeScope())
        {
            manual_seed(3);
            var g = new Generator(GeneratorOptions.Tiny(32) with { CDim = 2 });
            NetworkCheckpoint.Save(network, null, g, null, new Dictionary<string, string> { [ClassLabels.MetadataKey] = ClassLabels.NamesJson(set.Names) });
        }
        string[] common = ["--metrics", "fd-full32", "--num", "4", "--batch", "4", "--cache", Path.Combine(set.Root, "cache")];
        var (code, stdout, err) = CliRunner.Run([MetricsCommand.Create()], ["metrics", "--network", network, "--data", set.Data, "--per-class", .. common]);
        Assert.True(code == 0, err);
        var records = File.ReadAllLines(Path.Combine(dir, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal([set.Names[0], set.Names[1], "all"], records.Select(r => (string)r["class"]!));
        Assert.Equal([set.Names[0], set.Names[1], "all"], records.Select(r => (string)r["reals_class"]!));
        Assert.Equal([3L, 2L, 4L], records.Select(r => (long)r["reals"]!["full32"]!));   // all: --num 4 of the 5 images
        Assert.All(records, r => Assert.True((double)r["results"]!["fd_resnet18_full32"]! > 0));
        Assert.Contains($"{set.Names[1]} fd_resnet18_full32 ", stdout);

        // Class 1 measured by --class against a folder of its images alone: the same reals and fakes, so the same FD.
        (code, stdout, err) = CliRunner.Run([MetricsCommand.Create()], ["metrics", "--network", network, "--data", Path.Combine(set.Data, set.Names[1]), "--class", set.Names[1], .. common]);
        Assert.True(code == 0, err);
        var alone = JsonNode.Parse(File.ReadAllLines(Path.Combine(dir, "metrics.jsonl"))[^1])!.AsObject();
        Assert.Equal(("all", 2L), ((string)alone["reals_class"]!, (long)alone["reals"]!["full32"]!));
        Assert.Equal((double)records[1]["results"]!["fd_resnet18_full32"]!, (double)alone["results"]!["fd_resnet18_full32"]!);

        (code, _, err) = CliRunner.Run([MetricsCommand.Create()], ["metrics", "--network", network, "--data", set.Data, "--per-class", "--class", "0", .. common]);
        Assert.Equal((2, "error: --per-class measures every class: leave out --class"), (code, err.Trim()));
    }
}
