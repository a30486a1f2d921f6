using System.Text;
using AnyRes.Core;
using AnyRes.Data;

namespace AnyRes.Tests.Data;

public class HeldOutSplitTests
{
    static List<SplitItem> Items(int n, string prefix = "img") =>
        Enumerable.Range(0, n).Select(i => new SplitItem($"{prefix}{i:000}.png", HeldOutSplit.ContentHash(Encoding.UTF8.GetBytes($"content {i}")))).ToList();

    [Fact]
    public void Content_hash_is_sha256()
    {
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", HeldOutSplit.ContentHash("abc"u8));
    }

    [Fact]
    public void Split_is_deterministic_disjoint_a_tenth_and_follows_content_not_names()
    {
        var items = Items(57);
        var split = HeldOutSplit.Split(items);
        Assert.Equal(6, split.HeldOut.Count);                                   // ⌈5.7⌉
        Assert.Equal(51, split.Train.Count);
        Assert.Empty(split.Train.Select(i => i.Path).Intersect(split.HeldOut.Select(i => i.Path)));
        Assert.Equal(items.Select(i => i.Path).Order(), split.Train.Concat(split.HeldOut).Select(i => i.Path).Order());
        // The held-out images are those with the smallest hashes.
        Assert.True(string.CompareOrdinal(split.HeldOut.Max(i => i.Hash), split.Train.Min(i => i.Hash)) < 0);

        var again = HeldOutSplit.Split(items.AsEnumerable().Reverse().ToList());
        Assert.Equal(split.HeldOut, again.HeldOut);

        var renamed = HeldOutSplit.Split(Items(57, "renamed-"));
        Assert.Equal(split.HeldOut.Select(i => i.Hash).Order(StringComparer.Ordinal), renamed.HeldOut.Select(i => i.Hash).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Identical_files_stay_together_and_small_sets_still_hold_one_out()
    {
        var items = Items(9);
        var twin = items.OrderBy(i => i.Hash, StringComparer.Ordinal).First();
        items.Add(twin with { Path = "copy-of-first.png" });
        var split = HeldOutSplit.Split(items);
        Assert.Equal(2, split.HeldOut.Count);                                   // ⌈1.0⌉ = 1, and its identical copy with it
        Assert.All(split.HeldOut, i => Assert.Equal(twin.Hash, i.Hash));

        Assert.Single(HeldOutSplit.Split(Items(2)).HeldOut);
        Assert.Contains("at least 2 images", Assert.Throws<AnyResException>(() => HeldOutSplit.Split(Items(1))).Message);
    }

    [Fact]
    public void Write_copies_each_file_to_its_side_byte_for_byte()
    {
        using var dir = new TempDir();
        SynthImages.WriteSet(dir["data"], 12, 16, 24, seed: 5);
        using var source = ImageSource.Open(dir["data"], useCache: false);
        var split = HeldOutSplit.Write(source, dir["train"], dir["held"]);
        Assert.Equal((10, 2), (split.Train.Count, split.HeldOut.Count));
        foreach (var (folder, list) in new[] { ("train", split.Train), ("held", split.HeldOut) })
            foreach (var item in list)
            {
                var copy = File.ReadAllBytes(Path.Combine(dir[folder], item.Path));
                Assert.Equal(File.ReadAllBytes(Path.Combine(dir["data"], item.Path)), copy);
                Assert.Equal(item.Hash, HeldOutSplit.ContentHash(copy));
            }

        // Renaming every file changes no side.
        Directory.CreateDirectory(dir["renamed"]);
        foreach (var f in Directory.GetFiles(dir["data"], "*.png")) File.Copy(f, Path.Combine(dir["renamed"], "x-" + Path.GetFileName(f).Replace("synth", "other")));
        using var renamed = ImageSource.Open(dir["renamed"], useCache: false);
        var split2 = HeldOutSplit.Write(renamed, dir["train2"], dir["held2"]);
        Assert.Equal(split.HeldOut.Select(i => i.Hash).Order(StringComparer.Ordinal), split2.HeldOut.Select(i => i.Hash).Order(StringComparer.Ordinal));
    }
}
