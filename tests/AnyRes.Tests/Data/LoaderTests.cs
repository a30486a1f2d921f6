using AnyRes.Data;
using TorchSharp;

namespace AnyRes.Tests.Data;

public class LoaderTests : IDisposable
{
    readonly TempDir _dir = new();
    readonly ImageSource _source;

    public LoaderTests()
    {
        SynthImages.WriteSet(_dir.Path, 5, 40, 120, 9);
        _source = ImageSource.Open(_dir.Path, useCache: false);
    }

    public void Dispose() { _source.Dispose(); _dir.Dispose(); }

    BatchLoader Loader(int workers, long start = 0, double baseProbability = 0.5, int prefetch = 3) => new(
        new LowResDataset(_source, new LowResDatasetOptions { Size = 24, AllowUpsample = true }, _ => { }),
        new PatchDataset(_source, new PatchDatasetOptions { Size = 24, XFlip = true }, _ => { }),
        new LoaderOptions { BatchSize = 3, Seed = 42, Workers = workers, Prefetch = prefetch, StartStep = start, BaseProbability = baseProbability });

    [Fact]
    public void OutputIsIdenticalForAnyWorkerCountAndResumesFromItsStep()
    {
        using var scope = torch.NewDisposeScope();
        List<PatchBatch> Take(BatchLoader loader, int n) { using (loader) return Enumerable.Range(0, n).Select(_ => loader.Next()).ToList(); }
        var one = Take(Loader(1, prefetch: 1), 6);
        var three = Take(Loader(3, prefetch: 5), 6);
        var resumed = Take(Loader(2, start: 4), 2);
        Assert.Contains(one, b => b.IsPatchBatch);
        Assert.Contains(one, b => !b.IsPatchBatch);
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(one[i].IsPatchBatch, three[i].IsPatchBatch);
            Assert.True(one[i].Images.equal(three[i].Images).all().item<bool>(), $"batch {i} differs between 1 and 3 workers");
            Assert.True(one[i].Transforms.equal(three[i].Transforms).all().item<bool>());
            Assert.Equal(one[i].Zooms, three[i].Zooms);
        }
        Assert.True(one[4].Images.equal(resumed[0].Images).all().item<bool>());
        Assert.True(one[5].Images.equal(resumed[1].Images).all().item<bool>());
    }

    [Fact]
    public void BatchesHaveTheContractShapesAndRanges()
    {
        using var scope = torch.NewDisposeScope();
        using var loader = Loader(2);
        Assert.Equal(0, loader.Step);
        for (int i = 0; i < 6; i++)
        {
            var b = loader.Next();
            Assert.Equal(new long[] { 3, 3, 24, 24 }, b.Images.shape);
            Assert.Equal(torch.ScalarType.Float32, b.Images.dtype);
            Assert.InRange(b.Images.min().item<float>(), -1f, 1f);
            Assert.InRange(b.Images.max().item<float>(), -1f, 1f);
            Assert.Equal(new long[] { 3, 3, 3 }, b.Transforms.shape);
            if (!b.IsPatchBatch)
            {
                Assert.All(b.Zooms, z => Assert.Equal(1f, z));
                Assert.True(b.Transforms.equal(torch.eye(3).expand(3, 3, 3)).all().item<bool>());
            }
            else
            {
                Assert.All(b.Zooms, z => Assert.True(z >= 1));
                for (int k = 0; k < 3; k++) Assert.Equal(1 / b.Zooms[k], b.Transforms[k, 0, 0].item<float>(), 5);
            }
        }
        Assert.Equal(6, loader.Step);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.0)]
    [InlineData(0.25)]
    public void BaseProbabilityIsTheProbabilityOfAnLowResBatch(double probability)
    {
        using var loader = Loader(1, baseProbability: probability, prefetch: 1);
        const int steps = 2000;
        // The choice is the first draw of stream (seed, step, −1), independent of the images: count it directly.
        int lowRes = Enumerable.Range(0, steps).Count(t => new SampleRng(42, t, -1).NextDouble() < probability);
        Assert.InRange(lowRes / (double)steps, probability - 0.03, probability + 0.03);
        for (int t = 0; t < 40; t++)
            Assert.Equal(new SampleRng(42, t, -1).NextDouble() >= probability, loader.Make(t).IsPatchBatch);
    }
}
