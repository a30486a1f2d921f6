using AnyRes.Networks;
using AnyRes.Training;
using TorchSharp;

namespace AnyRes.Tests.Training;

/// <summary>Resident memory is process-wide, so this runs alone: beside other tests their allocations would count as its growth.</summary>
[Collection(AloneCollection.Name)]
public class TrainingMemoryTests(SyntheticSets sets) : IClassFixture<SyntheticSets>
{
    /// <summary>
    /// 200 iterations of the tiny configuration: every phase runs in a dispose scope, so after warm-up no tensor made on the
    /// training thread outlives its iteration and resident memory stays flat.
    /// </summary>
    [Fact, Trait("Category", "Slow")]
    public void Memory_stays_flat_over_200_iterations()
    {
        var options = sets.Tiny(TrainingMode.Global, SyntheticSets.NewOutdir(), 1000) with { Cbase = 128, Cmax = 8, ZDim = 8 };
        using var run = TrainingRun.Start(options, torch.CPU, _ => { });
        static long Rss() { using var p = System.Diagnostics.Process.GetCurrentProcess(); return p.WorkingSet64; }
        static long LiveTensors() => DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 50; i++) run.Trainer.Step();
        GC.Collect();
        long warmRss = Rss(), warmLive = LiveTensors();
        for (int i = 50; i < 200; i++) run.Trainer.Step();
        GC.Collect();
        long endRss = Rss(), endLive = LiveTensors();
        Assert.Equal(warmLive, endLive);
        Assert.True(endRss < warmRss * 1.05, $"RSS grew from {warmRss >> 20} MiB after warm-up to {endRss >> 20} MiB after 200 iterations");
    }
}
