using AnyRes.Core;
using TorchSharp;

namespace AnyRes.Data;

/// <summary>
/// A training batch: Images [B, 3, p, p] float32 in [−1, 1], Transforms [B, 3, 3], Zooms k = N/p; LR batches have identity
/// transforms and zoom 1. Labels [B, classes] one-hot float32 (each patch keeps its image's class), null without labels.
/// </summary>
public sealed record PatchBatch(torch.Tensor Images, torch.Tensor Transforms, float[] Zooms, bool IsPatchBatch, torch.Tensor? Labels);

public sealed record LoaderOptions
{
    public int BatchSize { get; init; } = 32;
    /// <summary>Probability of an LR batch (identity transforms), as the reference documents it (its code inverts it, spec §4.5).</summary>
    public double BaseProbability { get; init; } = 0.5;
    public ulong Seed { get; init; }
    public int Workers { get; init; } = 2;
    /// <summary>Batches made ahead of the consumer.</summary>
    public int Prefetch { get; init; } = 4;
    /// <summary>The step to start from (resume: the <see cref="BatchLoader.Step"/> saved with a checkpoint).</summary>
    public long StartStep { get; init; }
    /// <summary>Every class equally often (labelled datasets): each run of <c>classes</c> consecutive samples has one of each.</summary>
    public bool ClassBalanced { get; init; }
}

/// <summary>
/// Mixes LR batches and HR patch batches (spec §4.5) and makes them on background workers into a bounded prefetch queue.
/// Batch t is a pure function of (seed, t): its source from the stream (seed, t, −1), sample i from (seed, t, i), and the image
/// of sample i is position t·B+i of a per-epoch permutation of the dataset. So the output is identical for any worker count or
/// timing, and <see cref="Step"/> is the whole sampler state.
/// </summary>
public sealed class BatchLoader : IDisposable
{
    /// <summary>A batch before it becomes tensors: CHW float pixels in [−1, 1].</summary>
    public sealed record HostBatch(long Step, float[] Pixels, PatchTransform[] Transforms, float[] Zooms, bool IsPatchBatch, int Size, long[]? Labels);

    readonly LowResDataset? _lr;
    readonly PatchDataset? _hr;
    readonly LoaderOptions _options;
    readonly torch.Device _device;
    readonly Dictionary<long, HostBatch> _ready = new();
    readonly Thread[] _threads;
    readonly object _lock = new();
    readonly Func<long, int> _lrOrder, _hrOrder;   // sample position → dataset index
    long _claimed, _consumed;
    bool _stopped;
    Exception? _failure;

    public BatchLoader(LowResDataset? lr, PatchDataset? hr, LoaderOptions options, torch.Device? device = null)
    {
        if (lr is null && hr is null) throw new ArgumentException("the loader needs an LR or an HR dataset");
        if (lr is not null && hr is not null && lr.Options.Size != hr.Options.Size)
            throw new AnyResException($"LR size {lr.Options.Size} and patch size {hr.Options.Size} differ");
        if (options.BatchSize < 1 || options.Workers < 1 || options.Prefetch < 1) throw new AnyResException("batch size, workers and prefetch must be positive");
        if (!(options.BaseProbability >= 0 && options.BaseProbability <= 1)) throw new AnyResException($"--base-probability must be in [0, 1], got {options.BaseProbability}");
        if (lr is not null && hr is not null && (lr.Labels is null) != (hr.Labels is null)) throw new ArgumentException("both datasets need labels, or neither");
        if (lr?.Labels is { } a && hr?.Labels is { } b && !a.Names.SequenceEqual(b.Names))
            throw new AnyResException($"{lr.Source.Location} and {hr.Source.Location} have different classes ({ClassLabels.NamesJson(a.Names)} vs {ClassLabels.NamesJson(b.Names)})");
        _lr = lr; _hr = hr; _options = options; _device = device ?? torch.CPU;
        if (options.ClassBalanced && Labels is null) throw new AnyResException("class-balanced sampling needs labelled data (--cond)");
        _lrOrder = Order(lr, 1);
        _hrOrder = Order(hr, 2);
        _claimed = _consumed = options.StartStep;
        _threads = Enumerable.Range(0, options.Workers).Select(i => new Thread(Work) { IsBackground = true, Name = $"anyres-loader-{i}" }).ToArray();
        foreach (var t in _threads) t.Start();
    }

    /// <summary>The sampler state: the step of the next batch <see cref="Next"/> returns.</summary>
    public long Step { get { lock (_lock) return _consumed; } }

    public int Size => (_hr?.Options.Size ?? _lr!.Options.Size);

    /// <summary>The class table of the labelled datasets, or null.</summary>
    public ClassLabels? Labels => (_lr ?? (ImageDataset)_hr!).Labels;

    Func<long, int> Order(ImageDataset? dataset, int tag) => _options.ClassBalanced && dataset is not null
        ? new BalancedOrder(_options.Seed, tag, dataset).At
        : new EpochOrder(_options.Seed, tag, dataset?.Count ?? 1).At;

    /// <summary>
    /// The class of every item of the LR dataset (the HR one without LR): the label distribution fakes are drawn from. With
    /// class-balanced sampling every class once, so fakes are balanced like the reals.
    /// </summary>
    public long[] ItemLabels()
    {
        if (_options.ClassBalanced) return Enumerable.Range(0, Labels!.Count).Select(k => (long)k).ToArray();
        var dataset = _lr ?? (ImageDataset)_hr!;
        return Enumerable.Range(0, dataset.Count).Select(i => (long)dataset.Label(i)).ToArray();
    }

    /// <summary>The next batch, as tensors on the loader's device (created in the caller's dispose scope).</summary>
    public PatchBatch Next()
    {
        HostBatch batch;
        lock (_lock)
        {
            while (!_ready.ContainsKey(_consumed) && _failure is null) Monitor.Wait(_lock);
            if (_failure is not null) throw _failure is AnyResException ? new AnyResException(_failure.Message, _failure) : new InvalidOperationException("data loader failed", _failure);
            batch = _ready[_consumed];
            _ready.Remove(_consumed++);
            Monitor.PulseAll(_lock);
        }
        int b = batch.Zooms.Length, p = batch.Size;
        var images = torch.tensor(batch.Pixels, new long[] { b, 3, p, p }, device: _device);
        var labels = batch.Labels is null ? null
            : torch.nn.functional.one_hot(torch.tensor(batch.Labels, device: _device), Labels!.Count).to(torch.float32);
        return new PatchBatch(images, PatchTransform.Stack(batch.Transforms, _device), batch.Zooms, batch.IsPatchBatch, labels);
    }

    void Work()
    {
        while (true)
        {
            long step;
            lock (_lock)
            {
                while (!_stopped && _failure is null && _claimed - _consumed >= _options.Prefetch) Monitor.Wait(_lock);
                if (_stopped || _failure is not null) return;
                step = _claimed++;
            }
            try
            {
                var batch = Make(step);
                lock (_lock) { _ready[step] = batch; Monitor.PulseAll(_lock); }
            }
            catch (Exception e)
            {
                lock (_lock) { _failure ??= e; Monitor.PulseAll(_lock); }
                return;
            }
        }
    }

    /// <summary>Batch <paramref name="step"/>, computed on the calling thread (what the workers run).</summary>
    public HostBatch Make(long step)
    {
        ulong seed = _options.Seed;
        bool patch = _lr is null || (_hr is not null && !(new SampleRng(seed, step, -1).NextDouble() < _options.BaseProbability));
        int bs = _options.BatchSize, p = Size;
        var pixels = new float[(long)bs * 3 * p * p];
        var transforms = new PatchTransform[bs];
        var zooms = new float[bs];
        var labels = Labels is null ? null : new long[bs];
        for (int i = 0; i < bs; i++)
        {
            var rng = new SampleRng(seed, step, i);
            long position = step * bs + i;
            RgbImage image;
            if (patch)
            {
                int index = _hrOrder(position);
                var sample = _hr!.Get(index, rng);
                (image, transforms[i], zooms[i]) = (sample.Image, sample.Transform, (float)sample.Zoom);
                if (labels is not null) labels[i] = _hr.Label(index);
            }
            else
            {
                int index = _lrOrder(position);
                (image, transforms[i], zooms[i]) = (_lr!.Get(index, rng), PatchTransform.Identity, 1f);
                if (labels is not null) labels[i] = _lr.Label(index);
            }
            ToChw(image, pixels.AsSpan(i * 3 * p * p, 3 * p * p));
        }
        return new HostBatch(step, pixels, transforms, zooms, patch, p, labels);
    }

    /// <summary>HWC bytes → CHW floats, x/127.5 − 1 as the reference normalises.</summary>
    public static void ToChw(RgbImage image, Span<float> chw)
    {
        int plane = image.Width * image.Height;
        var px = image.Pixels;
        for (int i = 0; i < plane; i++)
        {
            chw[i] = px[3 * i] / 127.5f - 1;
            chw[plane + i] = px[3 * i + 1] / 127.5f - 1;
            chw[2 * plane + i] = px[3 * i + 2] / 127.5f - 1;
        }
    }

    public void Dispose()
    {
        lock (_lock) { _stopped = true; Monitor.PulseAll(_lock); }
        foreach (var t in _threads) t.Join();
    }

    /// <summary>
    /// Position → dataset index with every class equally often: position t is of class classes[t] (a fresh permutation of the
    /// classes every K positions) and takes the next item of that class's own epoch order.
    /// </summary>
    sealed class BalancedOrder
    {
        readonly int[][] _items;   // dataset indices of each class
        readonly EpochOrder _classes;
        readonly EpochOrder[] _within;

        public BalancedOrder(ulong seed, int tag, ImageDataset dataset)
        {
            _items = Enumerable.Range(0, dataset.Count).GroupBy(dataset.Label).OrderBy(g => g.Key).Select(g => g.ToArray()).ToArray();
            _classes = new EpochOrder(seed, tag, _items.Length);
            _within = _items.Select((items, k) => new EpochOrder(seed, tag + 16 * (k + 1), items.Length)).ToArray();
        }

        public int At(long position)
        {
            int k = _classes.At(position);
            return _items[k][_within[k].At(position / _items.Length)];
        }
    }

    /// <summary>Position → dataset index: a fresh seeded permutation per epoch, so every item appears once per epoch.</summary>
    sealed class EpochOrder(ulong seed, int tag, int count)
    {
        readonly Dictionary<long, int[]> _perms = new();

        public int At(long position)
        {
            long epoch = position / count;
            int[] perm;
            lock (_perms)
            {
                if (!_perms.TryGetValue(epoch, out perm!))
                {
                    var rng = new SampleRng(seed ^ 0xA5A5_0000UL, epoch, -1 - tag);
                    perm = Enumerable.Range(0, count).ToArray();
                    for (int i = count - 1; i > 0; i--) { int j = rng.Int(0, i); (perm[i], perm[j]) = (perm[j], perm[i]); }
                    if (_perms.Count > 8) _perms.Remove(_perms.Keys.Min());
                    _perms[epoch] = perm;
                }
            }
            return perm[(int)(position % count)];
        }
    }
}
