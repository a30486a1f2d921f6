using System.Text.Json.Nodes;
using AnyRes.Core;
using AnyRes.Networks;
using static TorchSharp.torch;

namespace AnyRes.Tests.Networks;

/// <summary>
/// Official snapshots written by the reference training loop (tests/fixtures/official, or every &lt;name&gt;.pkl +
/// &lt;name&gt;.expected.safetensors pair in ANYRES_OFFICIAL_FIXTURES): imported tensors bit-identical to the reference's
/// state_dict(), and G_ema's forward from the imported checkpoint within the full-generator tolerance.
/// </summary>
[Trait("Category", "Import")]
public class OfficialSnapshotTests
{
    const double Atol = 1e-4, Rtol = 1e-3;   // fixtures README: out.img

    public static string Folder =>
        Environment.GetEnvironmentVariable("ANYRES_OFFICIAL_FIXTURES") is { Length: > 0 } env ? env : Path.Combine(AppContext.BaseDirectory, "fixtures", "official");

    /// <summary>Every pair in the folder, by name.</summary>
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var pkl in Directory.GetFiles(Folder, "*.pkl").Order())
        {
            var name = Path.GetFileNameWithoutExtension(pkl);
            if (File.Exists(Path.Combine(Folder, name + ".expected.safetensors"))) data.Add(name);
        }
        return data;
    }

    /// <summary>The import cache of these tests: a fresh folder, never the user's ~/.cache.</summary>
    internal static void UseTestCache()
    {
        lock (CacheLock)
            if (Environment.GetEnvironmentVariable("ANYRES_CACHE") is not { Length: > 0 })
                Environment.SetEnvironmentVariable("ANYRES_CACHE", Directory.CreateTempSubdirectory("anyres-cache").FullName);
    }

    static readonly object CacheLock = new();

    [Fact]
    public void FolderHoldsPairs() => Assert.NotEmpty(Cases());

    [Theory]
    [MemberData(nameof(Cases))]
    public void ImportIsBitIdenticalAndRendersAsTheReference(string name)
    {
        UseTestCache();
        var pkl = Path.Combine(Folder, name + ".pkl");
        var expected = SafetensorsFile.Read(Path.Combine(Folder, name + ".expected.safetensors"));
        try
        {
            var meta = JsonNode.Parse(expected.Metadata["fixture"])!.AsObject();
            var dir = Directory.CreateTempSubdirectory("anyres-import").FullName;
            var out_ = Path.Combine(dir, name + ".safetensors");
            OfficialSnapshot.Read(pkl).Save(pkl, out_);
            var imported = SafetensorsFile.Read(out_);
            try
            {
                var reference = expected.Tensors.Keys.Where(k => k.StartsWith("G.") || k.StartsWith("G_ema.") || k.StartsWith("D.")).ToList();
                Assert.Equal(reference.Order(), imported.Tensors.Keys.Order());
                foreach (var key in reference)
                {
                    var (a, b) = (imported.Tensors[key], expected.Tensors[key]);
                    Assert.Equal(b.dtype, a.dtype);
                    Assert.Equal(b.shape, a.shape);
                    Assert.True(a.bytes.SequenceEqual(b.bytes), $"{name}: {key} differs from the reference bit for bit");
                }
                var gKwargs = GeneratorOptions.FromReference(meta["G_init_kwargs"]!.AsObject());
                Assert.Equal(gKwargs with { Cfg = "" }, JsonOptions(imported, "G_ema.") with { Cfg = "" });
            }
            finally { foreach (var t in imported.Tensors.Values) t.Dispose(); }

            // Through NetworkCheckpoint.Load on the .pkl itself: the path every verb takes (imported once into the cache).
            var networks = NetworkCheckpoint.Load(pkl, CPU);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var G = networks.G_ema!;
            var z = expected.Tensors["in.z"];
            var img = G.Options.Panorama
                ? cat(Enumerable.Range(0, (int)z.shape[0]).Select(i => G.forward(z[i..(i + 1)], null, PanoramaFrame(G, expected, i))).ToArray(), 0)
                : G.forward(z, null, expected.Tensors.TryGetValue("in.transform", out var t_) ? t_ : null);
            Close.Assert(img, expected.Tensors["out.img"], Atol, Rtol, $"{name} out.img");
            Assert.Equal(name + ".pkl", networks.Metadata["anyres.imported_from"]);
        }
        finally { foreach (var t in expected.Tensors.Values) t.Dispose(); }
    }

    /// <summary>
    /// A panorama fixture's sample i: the reference's crop of grid columns from in.crop_start{i} is a translation by
    /// crop_start / sampling rate (SynthesisInput360), composed with in.transform{i}.
    /// </summary>
    static Tensor PanoramaFrame(AnyRes.Networks.Generator G, SafetensorsFile expected, int i)
    {
        var transform = expected.Tensors[$"in.transform{i}"].clone();
        double start = expected.Tensors[$"in.crop_start{i}"].item<float>();
        transform[0, 0, 2] += start / G.synthesis.input.SamplingRate;
        return transform;
    }

    static GeneratorOptions JsonOptions(SafetensorsFile f, string prefix) =>
        System.Text.Json.JsonSerializer.Deserialize<GeneratorOptions>(f.Metadata[NetworkCheckpoint.OptionsKey(prefix)], NetworkCheckpoint.Json)!;

    [Fact]
    public void TheCacheImportsOncePerFileContent()
    {
        UseTestCache();
        var dir = Directory.CreateTempSubdirectory("anyres-import").FullName;
        var copy = Path.Combine(dir, "copy.pkl");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "fixtures", "official", "sg3t_global_32.pkl"), copy);
        var first = OfficialSnapshot.Cached(copy);
        var written = File.GetLastWriteTimeUtc(first);
        Assert.Equal(first, OfficialSnapshot.Cached(copy));
        Assert.Equal(written, File.GetLastWriteTimeUtc(first));
        Assert.StartsWith(OfficialSnapshot.CacheFolder(), first);
        File.Copy(Path.Combine(AppContext.BaseDirectory, "fixtures", "official", "sg3r_global_32.pkl"), copy, overwrite: true);
        Assert.NotEqual(first, OfficialSnapshot.Cached(copy));   // new content, new key
    }

    [Fact]
    public void AMisshapedTensorIsNamedAndNothingIsWritten()
    {
        // tests/extra-fixtures/make_official_misshaped.py: sg3t_global_32 with G.mapping.fc0.weight viewed as [16, 8].
        var pkl = Path.Combine(AppContext.BaseDirectory, "extra-fixtures", "official_misshaped.pkl");
        var out_ = Path.Combine(Directory.CreateTempSubdirectory("anyres-import").FullName, "x.safetensors");
        var snapshot = OfficialSnapshot.Read(pkl);
        var e = Assert.Throws<AnyResException>(() => snapshot.Save(pkl, out_));
        Assert.Contains("G.mapping.fc0.weight is [16, 8] in the file, [16, 16] in the model", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(File.Exists(out_));
    }
}

/// <summary>The paper's workflow from a published model: stage 2 starts from an official stage-1 snapshot given as the teacher.</summary>
[Trait("Category", "Import")]
public class OfficialTeacherTests
{
    [Fact]
    public void StageTwoStartsFromAnOfficialStageOneSnapshot()
    {
        OfficialSnapshotTests.UseTestCache();
        var pkl = Path.Combine(AppContext.BaseDirectory, "fixtures", "official", "sg3t_global_32.pkl");
        var o = AnyRes.Training.TrainingOptions.Preset("tiny", TrainingMode.Patch) with { Teacher = pkl, GSize = 32 };
        var log = new List<string>();
        var n = AnyRes.Training.TrainingNetworks.FromTeacher(o, CPU, log.Add);
        var stage1 = NetworkCheckpoint.Load(pkl, CPU);
        Assert.False(n.Teacher!.HasScaleMapping);
        Assert.True(n.G.HasScaleMapping);
        // The student's mapping and every synthesis weight come from the official G; the teacher is its G_ema.
        foreach (var (key, t) in stage1.G!.state_dict())
            Assert.True(t.eq(n.G.state_dict()[key]).all().item<bool>(), key);
        foreach (var (key, t) in stage1.G_ema!.state_dict())
            Assert.True(t.eq(n.Teacher.state_dict()[key]).all().item<bool>(), key);
        Assert.Contains(log, l => l.Contains($"{stage1.G.state_dict().Count} of {n.G.state_dict().Count} tensors matched"));
    }
}
