using System.Runtime;

namespace AnyRes.Core;

/// <summary>
/// Keeps the .NET finalizer away from native tensor calls. TorchSharp 0.107 frees a temporary <c>Scalar</c> — the one behind
/// every <c>a + b</c> (its alpha of 1), <c>x * 2.0</c>, <c>clamp(lo, hi)</c> — in its finalizer, and nothing keeps it alive
/// while the native op that received its handle still reads it; a garbage collection at that moment lets the finalizer
/// thread free it under the op ("Expected false to be true … toFloat at c10/core/Scalar.h", seen once in a 2-minute tiny
/// stage-1 run with a data loader allocating alongside). Work that calls torch in a loop runs each unit (a training
/// iteration, a tile batch, a metric batch) inside <see cref="Enter"/>: the first thread in collects, lets pending
/// finalizers finish and opens a no-GC region of <see cref="BudgetBytes"/>; the last thread out closes it. Between units
/// nothing native runs on those threads, so that is where collections happen. Every region opened is ended with
/// EndNoGCRegion, also after an over-budget allocation ended it early (the runtime otherwise refuses the next one:
/// "NoGCRegion mode was already in progress", seen in the test suite, after which no unit was fenced). Measured cost: ~3 ms per unit (two
/// collections of a small heap), against units of 0.05–300 s. A unit that allocates more than the budget (all threads
/// together) ends the region early; <see cref="Breaches"/> counts those, and that unit is unprotected as before.
/// </summary>
public static class FinalizerFence
{
    /// <summary>Managed allocation allowed inside the region (all threads, loaders included); an iteration uses a few MB.</summary>
    public const long BudgetBytes = 512L << 20;

    static readonly Lock Gate = new();
    static int _inside;
    static bool _started;   // this fence opened the region now open (or ended early by an over-budget allocation)
    static long _breaches;

    /// <summary>Units whose allocations ended the region before they finished (process lifetime).</summary>
    public static long Breaches => Interlocked.Read(ref _breaches);

    /// <summary>Whether a no-GC region is open now (a thread is inside and the budget holds).</summary>
    public static bool Active => GCSettings.LatencyMode == GCLatencyMode.NoGCRegion;

    public static Scope Enter()
    {
        lock (Gate)
        {
            if (_inside++ == 0)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                _started = !Active && TryStart();
                GC.WaitForPendingFinalizers();
            }
        }
        return new Scope(entered: true);
    }

    /// <summary>Opens the region (it may collect once more to make room); false when the runtime declines.</summary>
    static bool TryStart()
    {
        try { return GC.TryStartNoGCRegion(BudgetBytes); }
        catch (InvalidOperationException)
        {
            // A region someone else left open: end it (the runtime says whether it held) and open ours.
            try { GC.EndNoGCRegion(); } catch (InvalidOperationException) { }
            try { return GC.TryStartNoGCRegion(BudgetBytes); }
            catch (InvalidOperationException) { return false; }
        }
    }

    static void Exit()
    {
        lock (Gate)
        {
            if (--_inside > 0 || !_started) return;
            _started = false;
            // Ended even when an over-budget allocation already collected (the latency mode is no longer NoGCRegion then):
            // until EndNoGCRegion is called the runtime counts the region as in progress and refuses the next one.
            try { GC.EndNoGCRegion(); }
            catch (InvalidOperationException) { Interlocked.Increment(ref _breaches); }   // a collection happened inside
        }
    }

    /// <summary>Leaves the fence on dispose (once); a default Scope never entered it and leaves nothing.</summary>
    public struct Scope(bool entered) : IDisposable
    {
        bool _inside = entered;

        public void Dispose()
        {
            if (!_inside) return;
            _inside = false;
            Exit();
        }
    }
}
