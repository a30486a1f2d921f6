using AnyRes.Core;

namespace AnyRes.Synthesis;

/// <summary>Seeds and their latents, so that a seed names the same z as in StyleGAN3's gen_images.py.</summary>
public static class Seeds
{
    /// <summary>"0-7,10,12-13" → 0,1,…,7,10,12,13 (ranges inclusive, as gen_images.py's --seeds).</summary>
    public static IReadOnlyList<uint> Parse(string text)
    {
        var seeds = new List<uint>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var ends = part.Split('-', StringSplitOptions.TrimEntries);
            if (ends.Length is < 1 or > 2 || !uint.TryParse(ends[0], out uint lo) || !uint.TryParse(ends[^1], out uint hi) || hi < lo || hi - lo > 1_000_000)
                throw new AnyResException($"--seeds: cannot read '{part}' (expected e.g. 0-7,10,12-13)");
            for (ulong s = lo; s <= hi; s++) seeds.Add((uint)s);
        }
        if (seeds.Count == 0) throw new AnyResException("--seeds: no seeds given");
        return seeds;
    }

    /// <summary>z for a seed: NumPy's <c>RandomState(seed).randn(zDim)</c> (MT19937, polar Box–Muller), like gen_images.py.</summary>
    public static float[] Latent(uint seed, int zDim)
    {
        var rng = new NumpyRandomState(seed);
        var z = new float[zDim];
        for (int i = 0; i < zDim; i++) z[i] = (float)rng.Gauss();
        return z;
    }
}

/// <summary>NumPy's legacy RandomState: MT19937 seeded by init_genrand, 53-bit doubles, cached polar Gaussian pairs.</summary>
public sealed class NumpyRandomState
{
    const int N = 624, M = 397;
    readonly uint[] state = new uint[N];
    int position = N;
    double cachedGauss;
    bool hasGauss;

    public NumpyRandomState(uint seed)
    {
        state[0] = seed;
        for (int i = 1; i < N; i++) state[i] = 1812433253u * (state[i - 1] ^ (state[i - 1] >> 30)) + (uint)i;
    }

    public uint NextUInt32()
    {
        if (position >= N)
        {
            for (int k = 0; k < N; k++)
            {
                uint y = (state[k] & 0x80000000u) | (state[(k + 1) % N] & 0x7fffffffu);
                state[k] = state[(k + M) % N] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908b0dfu : 0u);
            }
            position = 0;
        }
        uint x = state[position++];
        x ^= x >> 11;
        x ^= (x << 7) & 0x9d2c5680u;
        x ^= (x << 15) & 0xefc60000u;
        return x ^ (x >> 18);
    }

    public double NextDouble()
    {
        uint a = NextUInt32() >> 5, b = NextUInt32() >> 6;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }

    public double Gauss()
    {
        if (hasGauss) { hasGauss = false; return cachedGauss; }
        double x1, x2, r2;
        do
        {
            x1 = 2 * NextDouble() - 1;
            x2 = 2 * NextDouble() - 1;
            r2 = x1 * x1 + x2 * x2;
        } while (r2 >= 1 || r2 == 0);
        double f = Math.Sqrt(-2 * Math.Log(r2) / r2);
        (cachedGauss, hasGauss) = (f * x1, true);
        return f * x2;
    }
}
