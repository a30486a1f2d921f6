using AnyRes.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Tests.Core;

public class SafetensorsTests
{
    [Fact]
    public void RoundTripKeepsNamesDtypesValuesAndMetadata()
    {
        using var scope = NewDisposeScope();
        var dir = Directory.CreateTempSubdirectory("anyres-st").FullName;
        var path = Path.Combine(dir, "a.safetensors");
        var tensors = new Dictionary<string, Tensor>
        {
            ["b.weight"] = randn(3, 4), ["a.scalar"] = tensor(2.5), ["c.int"] = arange(7, dtype: int64), ["d.empty"] = zeros(0, 3),
        };
        SafetensorsFile.Write(path, tensors, new Dictionary<string, string> { ["options"] = "{\"x\":1}" });
        var read = SafetensorsFile.Read(path);
        Assert.Equal(tensors.Keys, read.Tensors.Keys);
        foreach (var (k, t) in tensors)
        {
            Assert.Equal(t.dtype, read.Tensors[k].dtype);
            Assert.Equal(t.shape, read.Tensors[k].shape);
            Assert.True(t.eq(read.Tensors[k]).all().item<bool>(), k);
        }
        Assert.Equal("{\"x\":1}", read.Metadata["options"]);
        Assert.Single(Directory.GetFiles(dir));
    }

    [Fact]
    public void CorruptFileGivesOneLineErrorNamingIt()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("anyres-st").FullName, "bad.safetensors");
        File.WriteAllBytes(path, new byte[] { 255, 255, 255, 255, 0, 0, 0, 0, 1, 2 });
        var e = Assert.Throws<AnyResException>(() => SafetensorsFile.Read(path));
        Assert.StartsWith(path, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ReadsEveryPublicFixtureHeader()
    {
        foreach (var file in Directory.GetFiles(Fixture.Folder, "*.safetensors"))
        {
            using var f = Fixture.Load(Path.GetFileName(file));
            Assert.NotEmpty(f.File.Tensors);
            Assert.NotNull(f.Meta["module"]);
        }
    }
}
