using System.Security.Cryptography;
using AnyRes.Core;

namespace AnyRes.Data;

/// <summary>One image of a split: its path in the source and the SHA-256 of its bytes (lower-case hex).</summary>
public sealed record SplitItem(string Path, string Hash);

/// <summary>Train and held-out images of a source, and the rule that made them.</summary>
public sealed record DataSplit(IReadOnlyList<SplitItem> Train, IReadOnlyList<SplitItem> HeldOut)
{
    public const string Rule = "held out: the ⌈10 %⌉ of images with the smallest SHA-256 of their file bytes (identical files together); the rest train";
}

/// <summary>
/// The protocol's train/held-out split (issue 16): by the SHA-256 of each file's bytes, so it depends on content only — the
/// same under renames, moves, re-orderings and copies of the folder — and identical files never straddle the split. The
/// held-out images are the ⌈fraction·n⌉ smallest hashes (at least one, never all): an exact 10 % even on a few images,
/// where a per-file hash threshold could leave nothing held out.
/// </summary>
public static class HeldOutSplit
{
    public const double HeldOutFraction = 0.1;

    public static string ContentHash(ReadOnlySpan<byte> bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    public static DataSplit Split(IReadOnlyList<SplitItem> items, double fraction = HeldOutFraction)
    {
        if (items.Count < 2) throw new AnyResException($"a train/held-out split needs at least 2 images, got {items.Count}");
        int target = Math.Max(1, (int)Math.Ceiling(fraction * items.Count - 1e-9));
        var heldOut = new List<SplitItem>();
        var train = new List<SplitItem>();
        // Whole groups of identical files in hash order until the target is reached; ties in content keep path order.
        foreach (var group in items.GroupBy(i => i.Hash).OrderBy(g => g.Key, StringComparer.Ordinal))
            (heldOut.Count < target ? heldOut : train).AddRange(group.OrderBy(i => i.Path, StringComparer.Ordinal));
        if (train.Count == 0) throw new AnyResException($"all {items.Count} images have the same content: nothing left to train on");
        return new DataSplit(train.OrderBy(i => i.Path, StringComparer.Ordinal).ToList(), heldOut.OrderBy(i => i.Path, StringComparer.Ordinal).ToList());
    }

    /// <summary>
    /// Hashes every readable image of <paramref name="source"/>, splits them and copies each file's bytes (atomically, same
    /// relative path) into <paramref name="trainDir"/> or <paramref name="heldOutDir"/>. Unreadable files are left out (the
    /// source lists them).
    /// </summary>
    public static DataSplit Write(ImageSource source, string trainDir, string heldOutDir, Action<int, int>? progress = null)
    {
        var items = new List<SplitItem>(source.Images.Count);
        foreach (var image in source.Images)
        {
            using var data = source.ReadData(image.Path);
            items.Add(new SplitItem(image.Path, ContentHash(data.AsSpan())));
        }
        var split = Split(items);
        int done = 0;
        foreach (var (dir, list) in new[] { (trainDir, split.Train), (heldOutDir, split.HeldOut) })
            foreach (var item in list)
            {
                using var data = source.ReadData(item.Path);
                AtomicFile.WriteAllBytes(System.IO.Path.Combine(dir, item.Path), data.AsSpan());
                progress?.Invoke(++done, items.Count);
            }
        return split;
    }
}
