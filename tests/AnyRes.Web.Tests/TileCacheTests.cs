namespace AnyRes.Web.Tests;

public class TileCacheTests
{
    [Fact]
    public void TheLeastRecentlyUsedTilesLeaveOnceTheBudgetIsPassed()
    {
        var cache = new TileCache(budgetBytes: 100);
        cache.Add("a", new byte[40]);
        cache.Add("b", new byte[40]);
        Assert.True(cache.TryGet("a", out _));   // a is now more recent than b
        cache.Add("c", new byte[40]);            // 120 > 100: b goes
        Assert.False(cache.TryGet("b", out _));
        Assert.True(cache.TryGet("a", out _) && cache.TryGet("c", out _));
        Assert.Equal((2, 80L), (cache.Count, cache.Bytes));
        cache.Add("huge", new byte[101]);        // larger than the budget: not kept, nothing evicted for it
        Assert.Equal((2, 80L), (cache.Count, cache.Bytes));
        cache.Add("a", new byte[10]);            // replacing counts the new size only
        Assert.Equal((2, 50L), (cache.Count, cache.Bytes));
    }
}
