using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AnyRes.Core;
using AnyRes.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Metrics;

public sealed record MetricOptions
{
    /// <summary>Images per set (fakes; patch reals too; full-image reals are all dataset items up to this). Reference: 50,000.</summary>
    public int Num { get; init; } = 50_000;
    public int Batch { get; init; } = 16;
    /// <summary>Seeds the real-patch sampling and the latents.</summary>
    public ulong Seed { get; init; }
    /// <summary>Include mirrored copies of the reals (the training set's x-flip).</summary>
    public bool XFlip { get; init; }
    /// <summary>KID subsets and their maximal size (SG3 defaults).</summary>
    public int KidSubsets { get; init; } = 100;
    public int KidSubsetSize { get; init; } = 1000;
    /// <summary>Folder of cached real statistics and of interrupted runs' partial features; null = neither.</summary>
    public string? CacheDir { get; init; }
    /// <summary>How often partial features are saved so that an interrupted run resumes (0 = after every batch).</summary>
    public double CheckpointSeconds { get; init; } = 60;
    /// <summary>Class-conditional metrics (null: reals unlabelled, fakes as the generator renders them).</summary>
    public MetricClasses? Classes { get; init; }
}

/// <summary>
/// Class-conditional metrics: the reals are labelled as training labels them (<see cref="ClassLabels.Read"/>, the same
/// dataset filters) and must have the network's <paramref name="Count"/> classes, named <paramref name="Names"/> when the network
/// stores a class table; the runner gives the fakes their classes.
/// <paramref name="Class"/> k: the reals of class k only against fakes of class k (per-class FD); null: all reals against
/// fakes whose classes are those of uniformly random real items, i.e. in the data's proportions (the reference's gen_c).
/// </summary>
public sealed record MetricClasses(int Count, IReadOnlyList<string>? Names, int? Class = null)
{
    /// <summary>Tells the selection apart in cache keys: "" (all reals), "-class{k}".</summary>
    public string RealsSuffix => Class is int k ? $"-class{k}" : "";
    /// <summary>Tells the fakes' labelling apart in cache keys.</summary>
    public string FakesSuffix => Class is int k ? $"-class{k}" : "-classes";
}

/// <summary>
/// Spec §9: real statistics (cached by dataset fingerprint + options), fakes from an <see cref="IMetricGenerator"/>, FD/KID.
/// In patch metrics the i-th fake is rendered with the i-th real patch's transform (and, for sub-patches, cropped at the
/// same offset), so both sets share scale and position distributions.
/// </summary>
public sealed class MetricRunner(IFeatureExtractor detector, MetricOptions options, ImageSource? lowRes, ImageSource? highRes)
{
    /// <summary>(metric label, phase "reals"/"fakes", done, total).</summary>
    public Action<string, string, long, long>? Progress { get; init; }

    /// <summary>The number of reals each metric label of the last <see cref="Run"/> used (after any class filter).</summary>
    public Dictionary<string, long> RealCounts { get; } = [];

    /// <summary>Computes the metrics; result names as <see cref="MetricSpec.ResultName"/>.</summary>
    public Dictionary<string, double> Run(IMetricGenerator generator, IEnumerable<MetricSpec> specs)
    {
        var results = new Dictionary<string, double>();
        foreach (var group in specs.GroupBy(s => s.Label))
        {
            var spec = group.First();
            using var reals = RealStatistics(spec, generator.Resolution, out var transforms, out var offsets);
            using var fakes = FakeStatistics(spec, generator, reals.Count, transforms, offsets);
            RealCounts[spec.Label] = reals.Count;
            foreach (var s in group.DistinctBy(s => s.Statistic))
                results[s.ResultName(detector.Name)] = s.Statistic == "kid" ? Kid(reals, fakes) : Fd(reals, fakes);
            transforms?.Dispose();
            offsets?.Dispose();
        }
        return results;
    }

    double Fd(FeatureStatistics reals, FeatureStatistics fakes)
    {
        var (m1, s1) = reals.MeanCov();
        var (m2, s2) = fakes.MeanCov();
        using (m1) using (s1) using (m2) using (s2) return Distances.Frechet(m2, s2, m1, s1);
    }

    double Kid(FeatureStatistics reals, FeatureStatistics fakes)
    {
        using var r = reals.Features();
        using var f = fakes.Features();
        return Distances.Kid(r, f, options.KidSubsets, options.KidSubsetSize, (long)options.Seed);
    }

    /// <summary>Real features; for patch metrics also each patch's transform [N,3,3] and sub-patch crop offset [N,2] (y, x).</summary>
    public FeatureStatistics RealStatistics(MetricSpec spec, int resolution, out Tensor? transforms, out Tensor? offsets)
    {
        var (items, describe) = RealItems(spec, resolution);
        var key = Hash(describe);
        var cacheFile = options.CacheDir is null ? null : Path.Combine(options.CacheDir, $"reals-{detector.Name}-{RealsLabel(spec)}-{key}.safetensors");
        if (cacheFile is not null && File.Exists(cacheFile))
        {
            var file = SafetensorsFile.Read(cacheFile);
            transforms = file.Tensors.GetValueOrDefault("transforms");
            offsets = file.Tensors.GetValueOrDefault("offsets");
            var cached = FeatureStatistics.FromTensors(file.Tensors);
            foreach (var (name, t) in file.Tensors) if (name is not ("transforms" or "offsets")) t.Dispose();
            return cached;
        }

        var partial = Partial(cacheFile);
        var (stats, resumed) = partial?.Load() ?? (new FeatureStatistics(), new Dictionary<string, Tensor>());
        var transformChunks = resumed.TryGetValue("transforms", out var rt) ? new List<Tensor> { rt } : [];
        var offsetChunks = resumed.TryGetValue("offsets", out var ro) ? new List<Tensor> { ro } : [];
        int crop = detector.NativeSize;
        for (int start = (int)stats.Count; start < items; start += options.Batch)
        {
            using var fence = FinalizerFence.Enter();
            using var scope = NewDisposeScope();
            int n = Math.Min(options.Batch, items - start);
            var images = new List<RgbImage>(n);
            var batchTransforms = new List<PatchTransform>(n);
            var batchOffsets = new List<long>(2 * n);
            for (int i = start; i < start + n; i++)
            {
                var (image, transform) = RealItem(spec, resolution, i);
                if (spec.Kind == MetricKind.Subpatch)
                {
                    // A uniform crop of the detector's size inside the P×P patch; the fake is cut at the same place.
                    var rng = new SampleRng(options.Seed, i, 2);
                    var (y, x) = (rng.Int(0, spec.Size - crop), rng.Int(0, spec.Size - crop));
                    image = image.Crop(x, y, crop, crop);
                    batchOffsets.AddRange([y, x]);
                }
                if (transform is { } t) batchTransforms.Add(t);
                images.Add(image);
            }
            stats.Append(detector.Extract(ToTensor(images)));
            if (batchTransforms.Count > 0) transformChunks.Add(PatchTransform.Stack(batchTransforms).DetachFromDisposeScope());
            if (batchOffsets.Count > 0) offsetChunks.Add(torch.tensor(batchOffsets.ToArray()).view(-1, 2).DetachFromDisposeScope());
            partial?.Save(stats, start + n < items, () => Extras(transformChunks, offsetChunks));
            Progress?.Invoke(RealsLabel(spec), "reals", start + n, items);
        }
        transforms = transformChunks.Count > 0 ? torch.cat(transformChunks) : null;
        offsets = offsetChunks.Count > 0 ? torch.cat(offsetChunks) : null;
        foreach (var chunk in transformChunks.Concat(offsetChunks)) chunk.Dispose();
        if (cacheFile is not null)
        {
            Directory.CreateDirectory(options.CacheDir!);
            var extra = new Dictionary<string, Tensor>();
            if (transforms is not null) extra["transforms"] = transforms;
            if (offsets is not null) extra["offsets"] = offsets;
            stats.Save(cacheFile, extra, new Dictionary<string, string> { ["anyres.reals"] = describe });
        }
        partial?.Delete();
        return stats;
    }

    static Dictionary<string, Tensor> Extras(List<Tensor> transformChunks, List<Tensor> offsetChunks)
    {
        var extra = new Dictionary<string, Tensor>();
        if (transformChunks.Count > 0) extra["transforms"] = torch.cat(transformChunks);
        if (offsetChunks.Count > 0) extra["offsets"] = torch.cat(offsetChunks);
        return extra;
    }

    PartialFeatures? Partial(string? finalFile) =>
        finalFile is null ? null : new PartialFeatures(Path.Combine(Path.GetDirectoryName(finalFile)!, "partial-" + Path.GetFileName(finalFile)), options.CheckpointSeconds);

    /// <summary>Fake features: latents from a seeded stream; patch fakes use the reals' transforms one-to-one.</summary>
    public FeatureStatistics FakeStatistics(MetricSpec spec, IMetricGenerator generator, long realCount, Tensor? transforms, Tensor? offsets)
    {
        long count = spec.PatchLike ? realCount : options.Num;
        var gen = new torch.Generator(options.Seed + 1);
        var key = JsonSerializer.Serialize(new { version = 1, generator = generator.Identity + options.Classes?.FakesSuffix, metric = spec.Label, count, options.Seed, options.Batch, detector = detector.Name, transforms = Hash(Named(transforms)), offsets = Hash(Named(offsets)) });
        var partial = options.CacheDir is null ? null
            : new PartialFeatures(Path.Combine(options.CacheDir, $"partial-fakes-{detector.Name}-{spec.Label}-{Hash(key)}.safetensors"), options.CheckpointSeconds);
        var stats = partial?.Load().Stats ?? new FeatureStatistics();
        int crop = detector.NativeSize;
        for (long start = 0; start < count; start += options.Batch)
        {
            using var fence = FinalizerFence.Enter();
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            long n = Math.Min(options.Batch, count - start);
            var z = randn([n, generator.ZDim], generator: gen).to(generator.Device);
            var classes = FakeClasses(spec, generator.Resolution, n, gen);
            if (start < stats.Count) continue;   // resumed: the latents are drawn again so that the stream continues where it stopped
            Tensor images = spec.Kind switch
            {
                MetricKind.Full => generator.Full(z, spec.Size, classes),
                MetricKind.Up => generator.Upsampled(z, spec.Size, classes),
                _ => generator.Patches(z, transforms!.narrow(0, start, n).to(generator.Device), classes),
            };
            images = FeatureExtractors.Quantize(images);
            if (spec.Kind == MetricKind.Subpatch)
                images = torch.stack(Enumerable.Range(0, (int)n).Select(i =>
                {
                    long y = offsets![start + i, 0].item<long>(), x = offsets[start + i, 1].item<long>();
                    return images[i].narrow(1, y, crop).narrow(2, x, crop);
                }));
            stats.Append(detector.Extract(images));
            partial?.Save(stats, start + n < count, () => []);
            Progress?.Invoke(spec.Label, "fakes", start + n, count);
        }
        partial?.Delete();
        return stats;
    }

    /// <summary>
    /// The fakes' classes [n] with <see cref="MetricOptions.Classes"/> (else null): all k for one class; otherwise the classes
    /// of uniformly random real items, drawn from the latent stream so a resumed pass draws the same.
    /// </summary>
    Tensor? FakeClasses(MetricSpec spec, int resolution, long n, torch.Generator gen)
    {
        if (options.Classes is not { } selection) return null;
        if (selection.Class is int k) return full(n, k, int64);
        var labels = Dataset(spec, resolution).ItemLabels;
        return torch.tensor(labels).index_select(0, randint(0, labels.Length, [n], generator: gen));
    }

    /// <summary>The metric label with the class the reals are filtered to, if any (cache names, progress).</summary>
    string RealsLabel(MetricSpec spec) => spec.Label + options.Classes?.RealsSuffix;

    (int Count, string Describe) RealItems(MetricSpec spec, int resolution)
    {
        var (source, _, items, _) = Dataset(spec, resolution);
        int count = spec.PatchLike ? options.Num : Math.Min(options.Num, items.Length);
        var fingerprint = Fingerprint(source);
        var describe = JsonSerializer.Serialize(new
        {
            version = 1, source = source.Location, fingerprint, metric = RealsLabel(spec), resolution, count, options.XFlip, options.Seed,
            detector = detector.Name,
        });
        return (count, describe);
    }

    static IEnumerable<(string, Tensor)>? Named(Tensor? t) => t is null ? null : [("", t)];

    /// <summary>The first 16 hex digits of the SHA-256 of a text (cache keys, fingerprints).</summary>
    static string Hash(string text) => Hash(sha => sha.AppendData(Encoding.UTF8.GetBytes(text)));

    /// <summary>The same digest over named tensors' names and bytes (null: no tensors).</summary>
    internal static string? Hash(IEnumerable<(string Name, Tensor Tensor)>? tensors) => tensors is null ? null : Hash(sha =>
    {
        foreach (var (name, t) in tensors)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(name));
            using var c = t.detach().cpu().contiguous();
            sha.AppendData(c.bytes);
        }
    });

    static string Hash(Action<IncrementalHash> append)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        append(sha);
        return Convert.ToHexString(sha.GetHashAndReset())[..16].ToLowerInvariant();
    }

    static string Fingerprint(ImageSource source) => Hash(string.Join("\n", source.Images.Select(i => $"{i.Path}\t{i.Width}\t{i.Height}")));

    /// <summary>A metric's reals: the dataset, the items the metric walks (all, or one class's) and every item's class (empty when unlabelled).</summary>
    sealed record Reals(ImageSource Source, ImageDataset Dataset, int[] Items, long[] ItemLabels);

    readonly Dictionary<string, Reals> datasets = [];

    Reals Dataset(MetricSpec spec, int p)
    {
        string key = spec.Kind is MetricKind.Full or MetricKind.Up ? $"full{spec.Size}" : spec.Label;
        if (datasets.TryGetValue(key, out var cached)) return cached;
        ImageDataset made;
        if (spec.Kind is MetricKind.Full or MetricKind.Up)
        {
            if (spec.Size < p) throw new AnyResException($"{spec.Label}: R = {spec.Size} is below the generator's resolution {p}");
            // R = p: the LR training set; R > p: the HR set, random square crop, Lanczos to R (spec §9).
            var source = spec.Size == p ? lowRes ?? highRes : highRes;
            if (source is null) throw new AnyResException($"{spec.Label} needs {(spec.Size == p ? "--data" : "--data-hr")}");
            made = new LowResDataset(source, new LowResDatasetOptions { Size = spec.Size, XFlip = options.XFlip }, labels: Labels(source));
        }
        else
        {
            if (spec.Size != p) throw new AnyResException($"{spec.Label}: the patch size P must equal the generator's resolution {p}");
            if (highRes is null) throw new AnyResException($"{spec.Label} needs --data-hr");
            var (max, min) = spec.Scales;
            made = new PatchDataset(highRes, new PatchDatasetOptions { Size = spec.Size, ScaleMax = max, ScaleMin = min, XFlip = options.XFlip }, labels: Labels(highRes));
        }
        var all = Enumerable.Range(0, made.Count).ToArray();
        long[] itemLabels = made.Labels is null ? [] : all.Select(i => (long)made.Label(i)).ToArray();
        var items = options.Classes?.Class is int k ? all.Where(i => itemLabels[i] == k).ToArray() : all;
        return datasets[key] = new Reals(made.Source, made, items, itemLabels);
    }

    /// <summary>With <see cref="MetricOptions.Classes"/>: the source's labels, which must be the network's classes.</summary>
    ClassLabels? Labels(ImageSource source)
    {
        if (options.Classes is not { } selection) return null;
        var labels = ClassLabels.Read(source);
        if (labels.Count != selection.Count || selection.Names is { } names && !labels.Names.SequenceEqual(names))
            throw AnyResException.ForFile(source.Location, $"has classes {ClassLabels.NamesJson(labels.Names)}, the network "
                + (selection.Names is { } n ? ClassLabels.NamesJson(n) : $"{selection.Count} classes"));
        return labels;
    }

    /// <summary>The i-th real: full images walk the (mirrored) dataset in order; patches cycle through it in seeded order.</summary>
    (RgbImage Image, PatchTransform? Transform) RealItem(MetricSpec spec, int p, int i)
    {
        var (_, dataset, items, _) = Dataset(spec, p);
        var rng = new SampleRng(options.Seed, i, 1);
        if (dataset is LowResDataset lr) return (lr.Get(items[i], rng), null);
        var patches = (PatchDataset)dataset;
        int epoch = i / items.Length, within = i % items.Length;
        var order = Permutation(items.Length, options.Seed + (ulong)epoch);
        var sample = patches.Get(items[order[within]], rng);
        return (sample.Image, sample.Transform);
    }

    readonly Dictionary<(int, ulong), int[]> permutations = [];

    int[] Permutation(int n, ulong seed)
    {
        if (permutations.TryGetValue((n, seed), out var p)) return p;
        p = Enumerable.Range(0, n).ToArray();
        var rng = new SampleRng(seed, -1, 0);
        for (int i = n - 1; i > 0; i--) { int j = rng.Int(0, i); (p[i], p[j]) = (p[j], p[i]); }
        return permutations[(n, seed)] = p;
    }

    /// <summary>HWC uint8 images of one size → [B,3,H,W] float32 0..255.</summary>
    public static Tensor ToTensor(IReadOnlyList<RgbImage> images)
    {
        int h = images[0].Height, w = images[0].Width;
        var bytes = new byte[images.Count * h * w * 3];
        for (int i = 0; i < images.Count; i++) images[i].Pixels.CopyTo(bytes, i * h * w * 3);
        using var t = torch.tensor(bytes).view(images.Count, h, w, 3);
        return t.permute(0, 3, 1, 2).to(float32);
    }
}
