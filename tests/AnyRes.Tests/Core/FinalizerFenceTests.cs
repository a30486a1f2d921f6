using System.Runtime.CompilerServices;
using AnyRes.Core;
using TorchSharp;

namespace AnyRes.Tests.Core;

/// <summary>The fence is process-wide: its tests run alone, not next to tests that render or train.</summary>
[Collection(AloneCollection.Name)]
public class FinalizerFenceTests
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    static WeakReference DroppedScalar() => new(((Scalar)2.5));

    /// <summary>
    /// Inside the fence no collection happens however much (within the budget) this and another thread allocate, so a dropped
    /// Scalar is not finalized there; leaving it lets the next entry collect and finalize it.
    /// </summary>
    [Fact]
    public void No_collection_inside_and_dropped_scalars_are_finalized_between_units()
    {
        WeakReference dropped;
        using (FinalizerFence.Enter())
        {
            Assert.True(FinalizerFence.Active);
            int collections = GC.CollectionCount(0);
            dropped = DroppedScalar();
            var other = new Thread(() => { var keep = new List<byte[]>(); for (int i = 0; i < 200; i++) keep.Add(new byte[256 << 10]); });
            other.Start();
            other.Join();
            var junk = new List<byte[]>();
            for (int i = 0; i < 2000; i++) junk.Add(new byte[16 << 10]);   // ~80 MB in all, far above a gen0 budget
            Assert.Equal(collections, GC.CollectionCount(0));
            Assert.True(dropped.IsAlive);
            using (FinalizerFence.Enter()) Assert.True(FinalizerFence.Active);   // nested: still one region
            Assert.True(FinalizerFence.Active);
        }
        Assert.False(FinalizerFence.Active);
        default(FinalizerFence.Scope).Dispose();   // never entered: must not count as leaving
        using (FinalizerFence.Enter()) Assert.False(dropped.IsAlive);
        using (FinalizerFence.Enter()) Assert.True(FinalizerFence.Active);
        Assert.False(FinalizerFence.Active);
    }

    [Fact]
    public void A_unit_that_outgrows_the_budget_is_counted_and_the_next_one_is_protected_again()
    {
        long before = FinalizerFence.Breaches;
        using (FinalizerFence.Enter())
        {
            var junk = new List<byte[]>();
            for (long total = 0; total < 2 * FinalizerFence.BudgetBytes; total += 1 << 20) junk.Add(new byte[1 << 20]);
            Assert.False(FinalizerFence.Active);
        }
        Assert.Equal(before + 1, FinalizerFence.Breaches);
        using (FinalizerFence.Enter()) Assert.True(FinalizerFence.Active);
    }

    /// <summary>A no-GC region left open by someone else (the runtime would refuse a second one) is ended and replaced.</summary>
    [Fact]
    public void A_region_left_open_elsewhere_does_not_stop_the_fence()
    {
        Assert.True(GC.TryStartNoGCRegion(1 << 20));
        using (FinalizerFence.Enter()) Assert.True(FinalizerFence.Active);
        Assert.False(FinalizerFence.Active);
        using (FinalizerFence.Enter()) Assert.True(FinalizerFence.Active);
    }

    /// <summary>
    /// The race itself: torch ops with temporary Scalars on this thread while another thread allocates (~250 MB/s, like a data
    /// loader decoding photos). Without the fence the same loop died with "toFloat at c10/core/Scalar.h" after 9.1 and 14.3 s
    /// (two runs, 2 cores); fenced it ran 20 s twice. The test runs it fenced for 10 s.
    /// </summary>
    [Fact]
    public void Torch_ops_with_temporary_scalars_survive_a_collecting_neighbour_inside_the_fence()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var allocator = new Thread(() => { while (!stop.IsCancellationRequested) { GC.KeepAlive(new byte[256 << 10]); Thread.Sleep(1); } });
        allocator.Start();
        using var a = torch.randn(64, 64);
        using var b = torch.randn(64, 64);
        long breaches = FinalizerFence.Breaches;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                using var fence = FinalizerFence.Enter();
                using var scope = torch.NewDisposeScope();
                for (int i = 0; i < 2000; i++) (a + b).clamp(-1.0, 1.0).mul(0.5).add(b, 0.25);
            }
        }
        finally
        {
            stop.Cancel();
            allocator.Join();
        }
        Assert.Equal(breaches, FinalizerFence.Breaches);
    }
}
