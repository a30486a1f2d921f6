using System.Net;

namespace AnyRes.Web.Tests;

/// <summary>The render gate and cancellation, observed by holding renders after their first forward (Viewer.AfterForward).</summary>
public class LoadTests
{
    static async Task Until(Func<bool> condition, string what)
    {
        for (var start = DateTime.UtcNow; !condition(); await Task.Delay(20))
            if (DateTime.UtcNow - start > TimeSpan.FromSeconds(60)) throw new TimeoutException(what);
    }

    [Fact]
    public async Task BeyondTheCapRendersQueueAndBeyondTheQueueTheyAnswer503WithRetryAfter()
    {
        const int slots = 2, queue = 2, requests = 7;
        using var factory = new ViewerFactory(TinyNetworks.Options() with { MaxRenders = slots, QueueLength = queue });
        using var release = new ManualResetEventSlim();
        factory.Viewer.AfterForward = _ => release.Wait(TimeSpan.FromSeconds(60));
        var client = factory.CreateClient();
        // Distinct tiles of the deepest level (4×4 of them), so no two requests share a cache entry.
        var calls = Enumerable.Range(0, requests).Select(i => client.GetAsync($"/dzi/stage2/model/2/1/1x1_files/7/{i % 4}_{i / 4}.png")).ToList();

        await Until(() => factory.Viewer.Gate.Active == slots && factory.Viewer.Gate.Queued == queue && calls.Count(c => c.IsCompleted) == requests - slots - queue,
            "two renders running, two queued, the rest answered");
        var busy = calls.Where(c => c.IsCompleted).Select(c => c.Result).ToList();
        Assert.All(busy, r =>
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(1), r.Headers.RetryAfter?.Delta);
        });

        release.Set();
        var served = (await Task.WhenAll(calls.Where(c => !busy.Contains(c.Result)))).ToList();
        Assert.Equal(slots + queue, served.Count);
        Assert.All(served, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(slots, factory.Viewer.Gate.PeakActive);
        Assert.Equal(requests - slots - queue, factory.Viewer.Stats.Rejected);
        Assert.Equal(0, factory.Viewer.Gate.Active + factory.Viewer.Gate.Queued);
    }

    [Fact]
    public async Task ACancelledRequestStopsItsRender()
    {
        // "Save this view" at 64×64 is 16 model tiles of 16 px: four forwards of four; the client leaves after the first.
        using var factory = new ViewerFactory(TinyNetworks.Options() with { MaxRenders = 1 });
        using var first = new ManualResetEventSlim();
        factory.Viewer.AfterForward = token => { first.Set(); token.WaitHandle.WaitOne(TimeSpan.FromSeconds(60)); };
        var client = factory.CreateClient();
        using var leave = new CancellationTokenSource();
        var call = client.GetAsync("/save/stage2/model/1/1/1x1?x0=0&y0=0&x1=1&y1=1&width=64&height=64", leave.Token);
        Assert.True(first.Wait(TimeSpan.FromSeconds(60)), "the render never started");
        leave.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        await Until(() => factory.Viewer.Stats.Cancelled == 1, "the render to notice");
        Assert.Equal(1, factory.Viewer.Stats.Forwards);   // stopped before its second forward
        Assert.Equal(0, factory.Viewer.Stats.Rendered);
        Assert.Equal(0, factory.Viewer.Gate.Active);      // and gave its slot back

        factory.Viewer.AfterForward = null;
        var next = await client.GetAsync("/save/stage2/model/1/1/1x1?x0=0&y0=0&x1=1&y1=1&width=64&height=64");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(5, factory.Viewer.Stats.Forwards);
    }
}
