using AnyRes.Cli.Commands;
using AnyRes.Core;
using AnyRes.Data;
using AnyRes.Networks;
using AnyRes.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Tests.Training;

/// <summary>The two-class synthetic set (LR and HR, one folder per class), written once per test run.</summary>
public sealed class TwoClassSets() : SyntheticSets("cond", 2);

/// <summary>Class-conditional training (issue 22): the label reaches G and D, both stages train, resume is exact, rendering takes class names.</summary>
[Collection("Console")]
public class ConditionalTrainingTests(TwoClassSets sets) : IClassFixture<TwoClassSets>
{
    static readonly Device Cpu = torch.CPU;

    static Tensor OneHot(params long[] k) => nn.functional.one_hot(torch.tensor(k), 2).to(float32);

    [Fact]
    public void The_label_reaches_D_and_G()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var o = sets.Tiny(TrainingMode.Global, SyntheticSets.NewOutdir(), 1);
        using var nets = TrainingNetworks.Fresh(o, Cpu, classes: 2);
        Assert.Equal((2, 2), (nets.G.CDim, nets.D.Options.CDim));
        // The same images with another class score differently; the same z with another class gives another image.
        var img = randn(4, 3, 64, 64, generator: new torch.Generator(1));
        var d0 = nets.D.call(img, OneHot(0, 0, 0, 0));
        var d1 = nets.D.call(img, OneHot(1, 1, 1, 1));
        Assert.True((d0 - d1).abs().max().item<float>() > 1e-4, $"D ignores the class: {d0.flatten().data<float>().ToArray()[0]} vs {d1.flatten().data<float>().ToArray()[0]}");
        var z = randn(2, nets.G.ZDim, generator: new torch.Generator(2));
        var g0 = nets.G_ema.forward(z, OneHot(0, 0));
        var g1 = nets.G_ema.forward(z, OneHot(1, 1));
        Assert.True((g0 - g1).abs().max().item<float>() > 1e-4, "G ignores the class");
        Assert.Throws<ArgumentException>(() => nets.D.call(img, null));
    }

    [Fact]
    public void Both_stages_train_with_cond_and_render_by_class_name()
    {
        var outdir = SyntheticSets.NewOutdir();
        var stage1 = TrainingRunTests.Train(sets.Tiny(TrainingMode.Global, outdir, 6), runDir =>
        {
            Assert.Equal("[\"00-earth-discs\",\"01-fire-boxes\"]", File.ReadAllText(Path.Combine(runDir, TrainingRun.ClassesFileName)));
            Assert.Contains("\"cond\": true", File.ReadAllText(Path.Combine(runDir, TrainingRun.OptionsFileName)));
        });
        var loaded = NetworkCheckpoint.Load(stage1, Cpu);
        Assert.Equal((2, 2), (loaded.G_ema!.CDim, loaded.D!.Options.CDim));
        Assert.Equal("[\"00-earth-discs\",\"01-fire-boxes\"]", loaded.Metadata[ClassLabels.MetadataKey]);

        // Stage 2 needs the same classes in the data as the teacher, and a conditional teacher.
        var wrong = sets.Tiny(TrainingMode.Patch, outdir, 2) with { Teacher = stage1, Cond = false };
        var e = Assert.Throws<AnyResException>(() => TrainingRun.Start(wrong, Cpu, _ => { }));
        Assert.Contains("is conditional on 2 classes, the data has 0", e.Message);

        var stage2 = TrainingRunTests.Train(sets.Tiny(TrainingMode.Patch, outdir, 6) with { Teacher = stage1 }, runDir =>
            Assert.Contains(File.ReadAllLines(Path.Combine(runDir, TrainingRun.StatsFileName)), l => l.Contains("Loss/G/loss_teacher_l1")));
        var student = NetworkCheckpoint.Load(stage2, Cpu);
        Assert.True(student.G_ema!.HasScaleMapping);
        Assert.Equal(2, student.G_ema.CDim);

        var png = Path.Combine(outdir, "render");
        var (code, _, err) = CliRunner.Run([GenerateCommand.Create()], "generate", "--network", stage2, "--class", "01-fire-boxes", "--seeds", "0", "--size", "32x32", "--out", png);
        Assert.True(code == 0, err);
        var fire = File.ReadAllBytes(Path.Combine(png, "seed0000.png"));
        (code, _, err) = CliRunner.Run([GenerateCommand.Create()], "generate", "--network", stage2, "--class", "0", "--seeds", "0", "--size", "32x32", "--out", png);
        Assert.True(code == 0, err);
        Assert.NotEqual(fire, File.ReadAllBytes(Path.Combine(png, "seed0000.png")));
        (code, _, err) = CliRunner.Run([GenerateCommand.Create()], "generate", "--network", stage2, "--class", "birds", "--seeds", "0", "--out", png);
        Assert.NotEqual(0, code);
        Assert.Equal($"error: --class birds: not a class of {stage2} (classes: 00-earth-discs, 01-fire-boxes)", err.Trim());
    }

    [Fact]
    public void Conditional_resume_continues_bit_identically() =>
        TrainingRunTests.AssertResumeIsExact(sets.Tiny(TrainingMode.Global, SyntheticSets.NewOutdir(), 6) with { ClassBalanced = true }, 3);   // fake labels come from the latent RNG

    [Fact]
    public void Train_takes_a_bare_cond_flag()
    {
        var (code, text, err) = CliRunner.Run([TrainCommand.Create()], "train", "global", "--preset", "tiny", "--data", "x", "--cond", "--dry-run");
        Assert.True(code == 0, err);
        Assert.Contains("\"cond\": true", text);
        (code, text, _) = CliRunner.Run([TrainCommand.Create()], "train", "global", "--preset", "tiny", "--data", "x", "--mirror", "0", "--dry-run");
        Assert.Contains("\"mirror\": false", text);
        (code, _, err) = CliRunner.Run([TrainCommand.Create()], "train", "global", "--preset", "tiny", "--data", "x", "--class-balanced");
        Assert.Equal("error: --class-balanced needs --cond", err.Trim());
    }
}
