using System.Text.Json;
using System.Text.Json.Nodes;
using AnyRes.Networks;

namespace AnyRes.Tests.Networks;

/// <summary>The synthesis schedule (spec 13.2) against spec Tables A and B and the tiny generator fixture's recorded layers.</summary>
public class ScheduleTests
{
    static IReadOnlyList<SynthesisLayerArgs> Layers(string cfg, int r) => SynthesisNetwork.Schedule(GeneratorOptions.Preset(cfg, r)).Layers;

    // name, C_in, C_out, S_in, S_out, sr_in, sr_out, fc_out, fh_out, tmp, up, down, up taps, down taps, pad lo, pad hi, fp16
    public static readonly object[][] TableA =
    {
        new object[] { 0, "L0_36_512", 512, 512, 36, 36, 16, 16, 2.0000, 6.0000, 32, 2, 2, 12, 12, 9, 8, false },
        new object[] { 1, "L1_36_512", 512, 512, 36, 36, 16, 16, 2.8284, 5.1716, 32, 2, 2, 12, 12, 9, 8, false },
        new object[] { 2, "L2_36_512", 512, 512, 36, 36, 16, 16, 4.0000, 4.0000, 32, 2, 2, 12, 12, 9, 8, false },
        new object[] { 3, "L3_52_512", 512, 512, 36, 52, 16, 32, 5.6569, 10.3431, 64, 4, 2, 24, 12, -6, -9, true },
        new object[] { 4, "L4_52_512", 512, 512, 52, 52, 32, 32, 8.0000, 8.0000, 64, 2, 2, 12, 12, 9, 8, true },
        new object[] { 5, "L5_84_512", 512, 512, 52, 84, 32, 64, 11.3137, 20.6863, 128, 4, 2, 24, 12, -6, -9, true },
        new object[] { 6, "L6_84_512", 512, 512, 84, 84, 64, 64, 16.0000, 16.0000, 128, 2, 2, 12, 12, 9, 8, true },
        new object[] { 7, "L7_148_512", 512, 512, 84, 148, 64, 128, 22.6274, 41.3726, 256, 4, 2, 24, 12, -6, -9, true },
        new object[] { 8, "L8_148_512", 512, 512, 148, 148, 128, 128, 32.0000, 32.0000, 256, 2, 2, 12, 12, 9, 8, true },
        new object[] { 9, "L9_148_362", 512, 362, 148, 148, 128, 128, 45.2548, 18.7452, 256, 2, 2, 12, 12, 9, 8, true },
        new object[] { 10, "L10_276_256", 362, 256, 148, 276, 128, 256, 64.0000, 64.0000, 512, 4, 2, 24, 12, -6, -9, true },
        new object[] { 11, "L11_276_181", 256, 181, 276, 276, 256, 256, 90.5097, 37.4903, 512, 2, 2, 12, 12, 9, 8, true },
        new object[] { 12, "L12_276_128", 181, 128, 276, 276, 256, 256, 128.0000, 29.5865, 512, 2, 2, 12, 12, 9, 8, true },
        new object[] { 13, "L13_256_128", 128, 128, 276, 256, 256, 256, 128.0000, 29.5865, 512, 2, 2, 12, 12, -11, -12, true },
        new object[] { 14, "L14_256_3", 128, 3, 256, 256, 256, 256, 128.0000, 29.5865, 256, 1, 1, 1, 1, 0, 0, true },
    };

    [Theory]
    [MemberData(nameof(TableA))]
    public void StyleGan3T256MatchesTableA(int i, string name, int cin, int cout, int sin, int sout, int srin, int srout, double fc, double fh,
        int tmp, int up, int down, int upTaps, int downTaps, int padLo, int padHi, bool fp16)
    {
        var a = Layers("stylegan3-t", 256)[i];
        Assert.Equal(name, SynthesisNetwork.LayerName(i, a));
        Assert.Equal((cin, cout, sin, sout, srin, srout), (a.InChannels, a.OutChannels, a.InSize, a.OutSize, a.InSamplingRate, a.OutSamplingRate));
        Assert.Equal(fc, a.OutCutoff, 4);
        Assert.Equal(fh, a.OutHalfWidth, 4);
        Assert.Equal((tmp, up, down, upTaps, downTaps, fp16), (a.TmpSamplingRate, a.UpFactor, a.DownFactor, a.UpTaps, a.DownTaps, a.UseFp16));
        Assert.Equal(new[] { padLo, padHi, padLo, padHi }, a.Padding);
        Assert.Equal(i == 14, a.IsTorgb);
        Assert.Equal(i >= 12, a.IsCriticallySampled);
    }

    [Fact]
    public void StyleGan3T256InputAndStopbands()
    {
        var (input, layers) = SynthesisNetwork.Schedule(GeneratorOptions.Preset("stylegan3-t", 256));
        Assert.Equal(new SynthesisNetwork.InputArgs(512, 36, 16, 2.0), input);
        Assert.Equal(16, GeneratorOptions.Preset("stylegan3-t", 256).NumWs);
        // f_t = f_h + f_c whenever the stopband exceeds sr/2 (spec's stopband list, first layers).
        var expected = new[] { 4.2871, 5.7891, 7.8173, 10.5561, 14.2544, 19.2484, 25.9921, 35.0984, 47.3951, 64.0000, 86.4224, 116.7005, 157.5865 };
        for (int i = 0; i < expected.Length; i++)
        {
            var a = layers[i];
            if (expected[i] >= a.OutSamplingRate / 2.0) Assert.Equal(expected[i], a.OutCutoff + a.OutHalfWidth, 4);
        }
    }

    [Fact]
    public void StyleGan3R256()
    {
        var layers = Layers("stylegan3-r", 256);
        var names = new[] { "L0_36_1024", "L1_36_1024", "L2_36_1024", "L3_52_1024", "L4_52_1024", "L5_84_1024", "L6_84_1024", "L7_148_1024",
            "L8_148_1024", "L9_148_724", "L10_276_512", "L11_276_362", "L12_276_256", "L13_256_256", "L14_256_3" };
        Assert.Equal(names, layers.Select((a, i) => SynthesisNetwork.LayerName(i, a)));
        for (int i = 0; i < 15; i++)
        {
            var a = layers[i];
            int[] pad = i == 14 ? new[] { 0, 0 } : i == 13 ? new[] { -9, -10 } : a.UpFactor == 4 ? new[] { -2, -5 } : new[] { 11, 10 };
            Assert.Equal(new[] { pad[0], pad[1], pad[0], pad[1] }, a.Padding);
            Assert.Equal(i <= 11, a.DownRadial);
        }
    }

    // name, sr_in, sr_out, S_in, S_out, fc_out, fh_out, tmp, up, down, pad lo, pad hi, fp16
    public static readonly object[][] TableB =
    {
        new object[] { 0, "L0_36_512", 16, 16, 36, 36, 2.0000, 6.0000, 32, 2, 2, 9, 8, false },
        new object[] { 1, "L1_36_512", 16, 16, 36, 36, 3.1748, 4.8252, 32, 2, 2, 9, 8, false },
        new object[] { 2, "L2_52_512", 16, 32, 36, 52, 5.0397, 10.9603, 64, 4, 2, -6, -9, false },
        new object[] { 3, "L3_52_512", 32, 32, 52, 52, 8.0000, 8.0000, 64, 2, 2, 9, 8, false },
        new object[] { 4, "L4_84_512", 32, 64, 52, 84, 12.6992, 19.3008, 128, 4, 2, -6, -9, false },
        new object[] { 5, "L5_148_512", 64, 128, 84, 148, 20.1587, 43.8413, 256, 4, 2, -6, -9, true },
        new object[] { 6, "L6_148_512", 128, 128, 148, 148, 32.0000, 32.0000, 256, 2, 2, 9, 8, true },
        new object[] { 7, "L7_276_323", 128, 256, 148, 276, 50.7968, 77.2032, 512, 4, 2, -6, -9, true },
        new object[] { 8, "L8_276_203", 256, 256, 276, 276, 80.6349, 47.3651, 512, 2, 2, 9, 8, true },
        new object[] { 9, "L9_532_128", 256, 512, 276, 532, 128.0000, 128.0000, 1024, 4, 2, -6, -9, true },
        new object[] { 10, "L10_1044_81", 512, 1024, 532, 1044, 203.1873, 308.8127, 2048, 4, 2, -6, -9, true },
        new object[] { 11, "L11_1044_51", 1024, 1024, 1044, 1044, 322.5398, 189.4602, 2048, 2, 2, 9, 8, true },
        new object[] { 12, "L12_1044_32", 1024, 1024, 1044, 1044, 512.0000, 118.3459, 2048, 2, 2, 9, 8, true },
        new object[] { 13, "L13_1024_32", 1024, 1024, 1044, 1024, 512.0000, 118.3459, 2048, 2, 2, -11, -12, true },
        new object[] { 14, "L14_1024_3", 1024, 1024, 1024, 1024, 512.0000, 118.3459, 1024, 1, 1, 0, 0, true },
    };

    [Theory]
    [MemberData(nameof(TableB))]
    public void StyleGan3T1024MatchesTableB(int i, string name, int srin, int srout, int sin, int sout, double fc, double fh, int tmp, int up, int down, int padLo, int padHi, bool fp16)
    {
        var a = Layers("stylegan3-t", 1024)[i];
        Assert.Equal(name, SynthesisNetwork.LayerName(i, a));
        Assert.Equal((srin, srout, sin, sout), (a.InSamplingRate, a.OutSamplingRate, a.InSize, a.OutSize));
        Assert.Equal(fc, a.OutCutoff, 4);
        Assert.Equal(fh, a.OutHalfWidth, 4);
        Assert.Equal((tmp, up, down, fp16), (a.TmpSamplingRate, a.UpFactor, a.DownFactor, a.UseFp16));
        Assert.Equal(new[] { padLo, padHi, padLo, padHi }, a.Padding);
    }

    [Fact]
    public void StyleGan3R1024Channels()
    {
        var channels = Layers("stylegan3-r", 1024).Select(a => a.OutChannels);
        Assert.Equal(new[] { 1024, 1024, 1024, 1024, 1024, 1024, 1024, 645, 406, 256, 161, 102, 64, 64, 3 }, channels);
    }

    [Fact]
    public void TinyGeneratorFixtureScheduleMatches()
    {
        using var f = Fixture.Load("generator_tiny.safetensors");
        var recorded = f.Meta["extra"]!["network_schedule"]!.AsObject();
        var layers = SynthesisNetwork.Schedule(GeneratorOptions.FromReference(f.Args)).Layers;
        Assert.Equal(recorded.Count, layers.Count);
        for (int i = 0; i < layers.Count; i++)
        {
            var name = SynthesisNetwork.LayerName(i, layers[i]);
            Assert.True(recorded.ContainsKey(name), $"layer {name} not in the fixture's schedule");
            // Only the recorded arguments: one the reference left out would otherwise be compared with a C# default.
            var ours = JsonSerializer.SerializeToNode(layers[i], SynthesisLayerTests.Snake)!.AsObject();
            foreach (var (key, value) in recorded[name]!.AsObject())
            {
                Assert.True(ours.TryGetPropertyValue(key, out var mine), $"{name}: recorded argument {key} has no counterpart in SynthesisLayerArgs");
                bool same = value?.GetValueKind() == JsonValueKind.Number && mine?.GetValueKind() == JsonValueKind.Number
                    ? Math.Abs((double)value! - (double)mine!) <= 1e-10   // cutoffs and half-widths: float rounding of the reference's numpy
                    : JsonNode.DeepEquals(value, mine);
                Assert.True(same, $"{name}.{key}: recorded {value?.ToJsonString()}, schedule gives {mine?.ToJsonString()}");
            }
        }
    }

    [Theory]
    [InlineData(16)]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(128)]
    [InlineData(512)]
    public void EveryPowerOfTwoGivesAConsistentChain(int r)
    {
        foreach (var cfg in new[] { "stylegan3-t", "stylegan3-r" })
        {
            var layers = Layers(cfg, r);
            Assert.Equal(r, layers[^1].OutSize);
            for (int i = 1; i < layers.Count; i++)
                Assert.Equal((layers[i - 1].OutChannels, layers[i - 1].OutSize, layers[i - 1].OutSamplingRate), (layers[i].InChannels, layers[i].InSize, layers[i].InSamplingRate));
        }
        Assert.Throws<ArgumentException>(() => GeneratorOptions.Preset("stylegan3-t", r + 1));
    }
}
