using AnyRes.Core;
using AnyRes.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Generator = AnyRes.Networks.Generator;

namespace AnyRes.Tests.Networks;

public class CheckpointTests
{
    /// <summary>A small module with a nested child, a parameter, a persistent and a scratch buffer.</summary>
    sealed class Toy : nn.Module<Tensor, Tensor>
    {
        readonly Linear fc;
        readonly Parameter scale;
        readonly Tensor w_avg;

        public Toy(int features) : base(nameof(Toy))
        {
            fc = nn.Linear(features, features);
            scale = new Parameter(randn(features));
            w_avg = randn(features);
            register_buffer("scratch", zeros(features), persistent: false);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => fc.forward(x) * scale + w_avg;
    }

    sealed record ToyOptions(int Features);

    static string TempDir() => Directory.CreateTempSubdirectory("anyres-ckpt").FullName;

    [Fact]
    public void SaveWritesPrefixedReferenceKeysAndOptions()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(TempDir(), "toy.safetensors");
        NetworkCheckpoint.SaveModules(path, [new("G.", new Toy(3), new ToyOptions(3)), new("D.", new Toy(2), new ToyOptions(2))],
            new Dictionary<string, string> { ["kimg"] = "12" });
        var file = SafetensorsFile.Read(path);
        Assert.Equal(["D.fc.bias", "D.fc.weight", "D.scale", "D.w_avg", "G.fc.bias", "G.fc.weight", "G.scale", "G.w_avg"], file.Tensors.Keys.Order());
        Assert.Equal("{\"Features\":3}", file.Metadata[NetworkCheckpoint.OptionsKey("G.")]);
        Assert.Equal("12", file.Metadata["kimg"]);
        Assert.Equal(NetworkCheckpoint.FormatValue, file.Metadata[NetworkCheckpoint.FormatKey]);
    }

    [Fact]
    public void SavedAndReloadedModuleGivesBitIdenticalOutput()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(TempDir(), "toy.safetensors");
        var a = new Toy(5);
        NetworkCheckpoint.SaveModules(path, [new("G.", a, new ToyOptions(5))], null);
        var b = new Toy(5);
        NetworkCheckpoint.LoadStrict(path, SafetensorsFile.Read(path).Tensors, [("G.", b)]);
        var x = randn(4, 5);
        Assert.True(a.forward(x).eq(b.forward(x)).all().item<bool>());
        foreach (var ((ka, ta), (kb, tb)) in a.state_dict().Zip(b.state_dict()))
        {
            Assert.Equal(ka, kb);
            Assert.Equal(ta.bytes.ToArray(), tb.bytes.ToArray());
        }
    }

    [Fact]
    public void AtomicWriteLeavesOnlyTheCheckpoint()
    {
        using var scope = NewDisposeScope();
        var dir = TempDir();
        var path = Path.Combine(dir, "toy.safetensors");
        NetworkCheckpoint.SaveModules(path, [new("G.", new Toy(3), new ToyOptions(3))], null);
        NetworkCheckpoint.SaveModules(path, [new("G.", new Toy(4), new ToyOptions(4))], null);
        Assert.Equal([path], Directory.GetFiles(dir));
        Assert.Equal([4L, 4L], SafetensorsFile.Read(path).Tensors["G.fc.weight"].shape);
    }

    [Fact]
    public void StrictLoaderListsMissingUnexpectedAndMisshapedKeysInOneLine()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(TempDir(), "toy.safetensors");
        var tensors = new Toy(3).state_dict().ToDictionary(kv => "G." + kv.Key, kv => kv.Value);
        tensors.Remove("G.scale");
        tensors["G.w_avg"] = zeros(4);
        tensors["G.mapping.fc9.weight"] = zeros(1);
        var target = new Toy(3);
        var before = target.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());

        var e = Assert.Throws<AnyResException>(() => NetworkCheckpoint.LoadStrict(path, tensors, [("G.", target)]));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains("missing 1 key (G.scale)", e.Message);
        Assert.Contains("unexpected 1 key (G.mapping.fc9.weight)", e.Message);
        Assert.Contains("mis-shaped 1 key (G.w_avg is [4] in the file, [3] in the model)", e.Message);
        foreach (var (k, t) in target.state_dict()) Assert.True(t.eq(before[k]).all().item<bool>(), $"{k} changed by a failed load");
    }

    [Fact]
    public void WrongPrefixIsReportedAsMissingAndUnexpected()
    {
        using var scope = NewDisposeScope();
        var tensors = new Toy(2).state_dict().ToDictionary(kv => "D." + kv.Key, kv => kv.Value);
        var e = Assert.Throws<AnyResException>(() => NetworkCheckpoint.LoadStrict("x.safetensors", tensors, [("G.", new Toy(2))]));
        Assert.Contains("missing 4 keys (G.", e.Message);
        Assert.Contains("unexpected 4 keys (D.", e.Message);
        foreach (var key in new[] { "fc.weight", "fc.bias", "scale", "w_avg" })
        {
            Assert.Contains("G." + key, e.Message);
            Assert.Contains("D." + key, e.Message);
        }
    }

    [Fact]
    public void GeneratorsAndDiscriminatorReloadBitExactly()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(TempDir(), "net.safetensors");
        manual_seed(1);
        var G = new Generator(GeneratorOptions.Tiny(16) with { TrainingMode = TrainingMode.Patch });
        var G_ema = new Generator(GeneratorOptions.Tiny(16));
        var D = new Discriminator(DiscriminatorOptions.Tiny(16) with { CDim = 3 });
        NetworkCheckpoint.Save(path, G, G_ema, D, new Dictionary<string, string> { ["kimg"] = "7" });

        var loaded = NetworkCheckpoint.Load(path, CPU);
        Assert.Equal("7", loaded.Metadata["kimg"]);
        Assert.Equal(G.Options, loaded.G!.Options);
        Assert.Equal(D.Options, loaded.D!.Options);
        var z = randn(2, G.ZDim);
        var transform = eye(3).expand(2, 3, 3) * 0.5;
        Assert.Equal(G.forward(z, null, transform).bytes.ToArray(), loaded.G.forward(z, null, transform).bytes.ToArray());
        Assert.Equal(G_ema.forward(z, null).bytes.ToArray(), loaded.G_ema!.forward(z, null).bytes.ToArray());
        var img = randn(2, 3, 16, 16);
        var c = eye(3)[TensorIndex.Slice(0, 2)];
        Assert.Equal(D.forward(img, c).bytes.ToArray(), loaded.D.forward(img, c).bytes.ToArray());
        Assert.Equal(G_ema.forward(z, null).bytes.ToArray(), NetworkCheckpoint.LoadGenerator(path, CPU).forward(z, null).bytes.ToArray());
    }

    [Fact]
    public void LoadGeneratorAcceptsAPlainReferenceStateDict()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(TempDir(), "plain.safetensors");
        var options = GeneratorOptions.Tiny(16);
        var G = new Generator(options);
        SafetensorsFile.Write(path, G.state_dict());   // what the python conversion snippet writes: reference keys, no prefix
        var z = randn(1, G.ZDim);
        Assert.Equal(G.forward(z, null).bytes.ToArray(), NetworkCheckpoint.LoadGenerator(path, CPU, options).forward(z, null).bytes.ToArray());
        var e = Assert.Throws<AnyResException>(() => NetworkCheckpoint.LoadGenerator(path, CPU));
        Assert.Contains("carries no options", e.Message);
        e = Assert.Throws<AnyResException>(() => NetworkCheckpoint.LoadGenerator(path, CPU, GeneratorOptions.Tiny(32)));
        Assert.Contains("does not match the networks it describes: missing", e.Message);
    }

    [Fact]
    public void BadFilesGiveOneLineNamingTheFile()
    {
        var dir = TempDir();
        var missing = Path.Combine(dir, "none.safetensors");
        Assert.StartsWith(missing + ": ", Assert.Throws<AnyResException>(() => NetworkCheckpoint.Load(missing, CPU)).Message);
        var text = Path.Combine(dir, "text.safetensors");
        File.WriteAllText(text, "hello, not tensors");
        Assert.Contains("not a safetensors file", Assert.Throws<AnyResException>(() => NetworkCheckpoint.Load(text, CPU)).Message);
        var plain = Path.Combine(dir, "plain.safetensors");
        using (var scope = NewDisposeScope()) SafetensorsFile.Write(plain, new Dictionary<string, Tensor> { ["x"] = zeros(2) });
        var e = Assert.Throws<AnyResException>(() => NetworkCheckpoint.Load(plain, CPU));
        Assert.StartsWith(plain + ": not an AnyRes network checkpoint", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
