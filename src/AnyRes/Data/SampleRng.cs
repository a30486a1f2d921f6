namespace AnyRes.Data;

/// <summary>
/// A small counter-derived random stream (SplitMix64). Every sample gets its own stream from (seed, step, slot), so what a
/// sample contains never depends on which worker made it, in what order, or how many workers there are.
/// </summary>
public sealed class SampleRng
{
    ulong _state;

    public SampleRng(ulong seed, long step, long slot)
    {
        _state = Mix(Mix(Mix(seed) ^ (ulong)step) ^ (ulong)slot * 0xD1B54A32D192ED03UL);
    }

    static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64() => Mix(_state += 0x9E3779B97F4A7C15UL);

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Continuous uniform in [a, b] (Python's random.uniform).</summary>
    public double Uniform(double a, double b) => a + (b - a) * NextDouble();

    /// <summary>Integer uniform in [low, high], both inclusive (Python's random.randint), without modulo bias.</summary>
    public int Int(int low, int high)
    {
        if (high < low) throw new ArgumentOutOfRangeException(nameof(high), $"empty range [{low}, {high}]");
        ulong range = (ulong)((long)high - low) + 1;
        ulong limit = ulong.MaxValue - ulong.MaxValue % range;
        ulong v;
        do v = NextUInt64(); while (v >= limit);
        return (int)(low + (long)(v % range));
    }
}
