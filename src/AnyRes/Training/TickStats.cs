using static TorchSharp.torch;

namespace AnyRes.Training;

/// <summary>What <c>training_stats.report</c> collects between ticks: per name, the count, mean, min and max of every reported value.</summary>
public sealed class TickStats
{
    public sealed class Entry
    {
        public long Num;
        public double Sum, Min = double.PositiveInfinity, Max = double.NegativeInfinity, Last;
        public double Mean => Num == 0 ? double.NaN : Sum / Num;
    }

    readonly SortedDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, Entry> Entries => _entries;

    /// <summary>Every element of <paramref name="values"/> (e.g. a per-sample loss) counts as one report.</summary>
    public void Report(string name, Tensor values)
    {
        using var v = values.detach().to(float64).cpu().flatten();
        var data = v.data<double>().ToArray();
        var e = Get(name);
        foreach (var x in data) Add(e, x);
        if (data.Length > 0) e.Last = data.Average();
    }

    public void Report(string name, double value)
    {
        var e = Get(name);
        Add(e, value);
        e.Last = value;
    }

    /// <summary>Reports the seconds until the returned value is disposed under <paramref name="name"/> (a <c>Timing/…</c> entry).</summary>
    public Timer Time(string name) => new(this, name, System.Diagnostics.Stopwatch.GetTimestamp());

    public readonly struct Timer(TickStats stats, string name, long start) : IDisposable
    {
        public void Dispose() => stats.Report(name, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    public double? Mean(string name) => _entries.TryGetValue(name, out var e) && e.Num > 0 ? e.Mean : null;

    public void Clear() => _entries.Clear();

    Entry Get(string name) => _entries.TryGetValue(name, out var e) ? e : _entries[name] = new Entry();

    static void Add(Entry e, double x)
    {
        e.Num++;
        e.Sum += x;
        e.Min = Math.Min(e.Min, x);
        e.Max = Math.Max(e.Max, x);
    }
}
