using AnyRes.Networks;
using AnyRes.Training;
using TorchSharp;

namespace AnyRes.Tests.Training;

/// <summary>Wrap-around panoramas six frames wide (fov 60), LR and HR, written once per test run.</summary>
public sealed class PanoramaSets() : SyntheticSets("pano", 0, 360.0 / 60);

/// <summary>global-360 (the reference's panorama mode) and patch-360 (stage 2 on the cylinder) on tiny networks.</summary>
public class PanoramaTrainingTests(PanoramaSets sets) : IClassFixture<PanoramaSets>
{
    [Fact]
    public void Global_360_resumes_bit_identically() =>   // its frames' start columns and windows come from the latent generator
        TrainingRunTests.AssertResumeIsExact(sets.Tiny(TrainingMode.Global, SyntheticSets.NewOutdir(), 6) with { Panorama = true }, 3);

    [Fact]
    public void Patch_360_trains_on_the_cylinder_from_a_panorama_teacher()
    {
        var outdir = SyntheticSets.NewOutdir();
        var stage1 = TrainingRunTests.Train(sets.Tiny(TrainingMode.Global, outdir, 4) with { Panorama = true, Fov = 60 });
        var teacher = NetworkCheckpoint.Load(stage1, torch.CPU).G_ema!;
        Assert.True(teacher.Options.Panorama);
        Assert.Equal(6.0, teacher.PanoramaPeriod);

        var log = new List<string>();
        var stage2 = sets.Tiny(TrainingMode.Patch, outdir, 8) with { Teacher = stage1, Tick = 4 / 1000.0 };
        using var run = TrainingRun.Start(stage2, torch.CPU, log.Add);
        run.Run();
        Assert.Contains(log, l => l.Contains("patch-360"));
        var stats = File.ReadAllLines(Path.Combine(run.RunDir, TrainingRun.StatsFileName));
        Assert.Contains(stats, l => l.Contains("Loss/G/loss_teacher_l1"));
        var student = NetworkCheckpoint.Load(Directory.GetFiles(run.RunDir, "network-snapshot-*.safetensors").Order().Last(), torch.CPU).G_ema!;
        Assert.True(student.HasScaleMapping && student.Options.Panorama);
        Assert.IsType<SynthesisInput360>(student.synthesis.input);
    }

    [Fact]
    public void A_panorama_student_needs_a_panorama_teacher()
    {
        var outdir = SyntheticSets.NewOutdir();
        var flat = TrainingRunTests.Train(sets.Tiny(TrainingMode.Global, outdir, 1));
        var e = Assert.Throws<AnyRes.Core.AnyResException>(() => TrainingRun.Start(sets.Tiny(TrainingMode.Patch, outdir, 1) with { Teacher = flat, Panorama = true }, torch.CPU, _ => { }));
        Assert.Contains("is not a panorama model", e.Message);
    }
}
