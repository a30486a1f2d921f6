namespace AnyRes.Web;

/// <summary>
/// At most <c>slots</c> renders at once and at most <c>queue</c> more waiting; anything beyond is turned away at once (the
/// caller answers 503 with Retry-After) instead of piling up behind minutes of CPU work.
/// </summary>
public sealed class RenderGate(int slots, int queue)
{
    readonly SemaphoreSlim running = new(slots, slots);
    int admitted, active, peak;

    public int Active => Volatile.Read(ref active);
    public int Queued => Math.Max(0, Volatile.Read(ref admitted) - Active);
    /// <summary>The most renders ever running at once.</summary>
    public int PeakActive => Volatile.Read(ref peak);

    /// <summary>A lease to dispose when the render ends, or null when the queue is full. Waiting is cancelled with the request.</summary>
    public async Task<IDisposable?> EnterAsync(CancellationToken cancellation)
    {
        if (Interlocked.Increment(ref admitted) > slots + queue)
        {
            Interlocked.Decrement(ref admitted);
            return null;
        }
        try { await running.WaitAsync(cancellation); }
        catch
        {
            Interlocked.Decrement(ref admitted);
            throw;
        }
        int now = Interlocked.Increment(ref active);
        for (int seen = peak; now > seen && Interlocked.CompareExchange(ref peak, now, seen) != seen; seen = peak) { }
        return new Lease(this);
    }

    sealed class Lease(RenderGate gate) : IDisposable
    {
        int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) != 0) return;
            Interlocked.Decrement(ref gate.active);
            Interlocked.Decrement(ref gate.admitted);
            gate.running.Release();
        }
    }
}
