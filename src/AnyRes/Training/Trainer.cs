using AnyRes.Core;
using AnyRes.Data;
using AnyRes.Features;
using AnyRes.Networks;
using AnyRes.Ops;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

using Generator = AnyRes.Networks.Generator;

namespace AnyRes.Training;

/// <summary>Progress counters of a run (all part of the resume state).</summary>
public sealed record TrainingCounters
{
    public long CurNimg { get; set; }
    public long BatchIdx { get; set; }
    public long CurTick { get; set; }
    public long TickStartNimg { get; set; }
}

/// <summary>
/// One training iteration exactly as <c>training_loop.py</c> + <c>loss.py</c> (spec §6): one batch of reals (LR images or HR
/// patches, chosen once per iteration) whose transforms every phase's fakes are rendered through; 3·B fresh latents; phases
/// Gmain (adversarial + teacher), Dmain (fakes with EMA updates, reals), Dreg every 16th iteration (lazy R1); micro-batches
/// accumulate gradients; NaN/Inf sanitising; Adam; then G_ema.
/// </summary>
public sealed class Trainer : IDisposable
{
    readonly TrainingOptions _o;
    readonly Device _device;
    readonly BatchLoader _loader;
    readonly IPerceptualDistance? _perceptual;
    readonly torch.Generator _latents;
    readonly (Tensor Ema, Tensor Live)[] _emaParams, _emaBuffers;
    readonly Tensor? _itemLabels;   // class of every dataset item: fakes' labels are drawn from it (gen_c)

    public TrainingNetworks Nets { get; }
    public Adam OptG { get; }
    public Adam OptD { get; }
    public TrainingCounters Counters { get; } = new();
    public TickStats Stats { get; } = new();
    bool Patch => _o.TrainingMode == TrainingMode.Patch;
    SynthesisInput360? Panorama => Nets.G.synthesis.input as SynthesisInput360;

    public Trainer(TrainingOptions o, Device device, TrainingNetworks nets, BatchLoader loader, IPerceptualDistance? perceptual)
    {
        (_o, _device, Nets, _loader, _perceptual) = (o, device, nets, loader, perceptual);
        if (Patch && nets.Teacher is not null && o.TeacherLambda > 0 && perceptual is null)
            throw new ArgumentException("the teacher loss needs a perceptual distance");
        // Reference: G without lazy regularisation; D with the correction for Dreg every 16 iterations.
        OptG = new Adam(nets.G.named_parameters().Select(p => (p.name, p.parameter)), o.GLearningRate, 0, 0.99);
        double mb = TrainingOptions.DRegInterval / (TrainingOptions.DRegInterval + 1.0);
        OptD = new Adam(nets.D.named_parameters().Select(p => (p.name, p.parameter)), o.Dlr * mb, Math.Pow(0, mb), Math.Pow(0.99, mb));
        _latents = new torch.Generator((ulong)(o.Seed * o.Gpus));
        if (nets.G.CDim != (loader.Labels?.Count ?? 0) || nets.D.Options.CDim != nets.G.CDim)
            throw new ArgumentException($"G has {nets.G.CDim} classes, D {nets.D.Options.CDim}, the data {loader.Labels?.Count ?? 0}");
        if (loader.Labels is not null) _itemLabels = torch.tensor(loader.ItemLabels()).DetachFromDisposeScope();
        _emaParams = Pairs(nets.G_ema.named_parameters().Select(p => (p.name, (Tensor)p.parameter)), nets.G.named_parameters().Select(p => (p.name, (Tensor)p.parameter)));
        _emaBuffers = Pairs(nets.G_ema.named_buffers(), nets.G.named_buffers());
    }

    static (Tensor, Tensor)[] Pairs(IEnumerable<(string name, Tensor t)> ema, IEnumerable<(string name, Tensor t)> live)
    {
        var byName = live.ToDictionary(x => x.name, x => x.t);
        return ema.Select(e => (e.t, byName[e.name])).ToArray();
    }

    /// <summary>State of the latent generator (resume).</summary>
    public Tensor LatentState() => _latents.get_state();
    public void RestoreLatentState(Tensor state) => _latents.set_state(state);

    /// <summary>The data sampler's position (resume): the index of the next batch.</summary>
    public long LoaderStep => _loader.Step;

    public void Step()
    {
        using var fence = FinalizerFence.Enter();
        using var scope = torch.NewDisposeScope();
        int B = _o.Batch, Bg = _o.BatchPerPass;
        PatchBatch batch;
        using (Stats.Time("Timing/data")) batch = _loader.Next();
        var reals = batch.Images.to(_device).split(Bg);
        Tensor?[] transforms = Patch ? batch.Transforms.to(_device).split(Bg) : new Tensor?[reals.Length];
        Stats.Report("Zoom/min", batch.Zooms.Min());
        Stats.Report("Zoom/max", batch.Zooms.Max());
        Stats.Report("Batch/is_patch", batch.IsPatchBatch ? 1 : 0);

        var zAll = torch.randn(new long[] { 3 * B, Nets.G.ZDim }, generator: _latents).to(_device);
        var z = zAll.split(B).Select(p => p.split(Bg)).ToArray();
        // Labels: the reals' own; the fakes' drawn like the reference's gen_c, the label of a uniformly random dataset item.
        Tensor?[] realC = batch.Labels?.to(_device).split(Bg) ?? new Tensor?[reals.Length];
        Tensor?[][] genC = _itemLabels is null ? [new Tensor?[reals.Length], new Tensor?[reals.Length]]
            : torch.nn.functional.one_hot(_itemLabels.index_select(0, torch.randint(0, _itemLabels.shape[0], new long[] { 3 * B }, generator: _latents)), Nets.G.CDim)
                .to(float32).to(_device).split(B).Select(p => p.split(Bg).Select(t => (Tensor?)t).ToArray()).ToArray();

        // patch-360: each sample at its own place around the cylinder, uniform over the turn; its teacher frame is there too.
        Tensor?[] offsets = Patch && Panorama is { } pano
            ? (torch.rand(new long[] { B }, generator: _latents) * pano.Period).to(_device).split(Bg)
            : new Tensor?[reals.Length];

        RunPhase("Gmain", OptG, Nets.G, k => GMain(z[0][k], genC[0][k], transforms[k], offsets[k], 1));
        RunPhase("Dmain", OptD, Nets.D, k => DMain(z[1][k], genC[1][k], reals[k], realC[k], Shifted(transforms[k], offsets[k]), 1));
        if (Counters.BatchIdx % TrainingOptions.DRegInterval == 0)
            RunPhase("Dreg", OptD, Nets.D, k => DReg(reals[k], realC[k], TrainingOptions.DRegInterval));

        using (Stats.Time("Timing/ema")) UpdateEma();
        Stats.Report("Resources/gc_fence_held", FinalizerFence.Active ? 1 : 0);   // 0: this iteration's allocations outgrew the no-GC region
        Counters.CurNimg += B;
        Counters.BatchIdx++;
    }

    void RunPhase(string name, Adam opt, nn.Module module, Action<int> microBatch)
    {
        using var timer = Stats.Time("Timing/" + name);
        opt.ZeroGrad();
        TrainingNetworks.SetRequiresGrad(module, true);
        int passes = _o.Batch / _o.BatchPerPass;
        for (int k = 0; k < passes; k++)
        {
            using var scope = torch.NewDisposeScope();
            microBatch(k);
        }
        TrainingNetworks.SetRequiresGrad(module, false);
        using (torch.no_grad())
        {
            using Scalar ranks = _o.Gpus;
            foreach (var p in opt.Parameters)
            {
                if (p.grad is not { } g) continue;
                if (_o.Gpus > 1) g.div_(ranks);   // the all-reduce average over ranks
                g.nan_to_num_(0, 1e5, -1e5);
            }
        }
        using (Stats.Time($"Timing/{name}/adam")) opt.StepOnce();
    }

    Tensor RunG(Tensor z, Tensor? c, Tensor? transform, bool updateEmas)
    {
        var ws = Nets.G.Mapping(z, c, updateEmas: updateEmas);
        if (!Patch && Panorama is { } pano) return PanoramaWindow(pano, ws, c, updateEmas);
        return Nets.G.Synthesis(ws, transform, updateEmas: updateEmas, c: c);
    }

    /// <summary>
    /// global-360 (loss.py run_G, spec 12): the frame at a random start column of the turn and the frame after it, side by side,
    /// and a random p-wide window of the two (start 0..p), so D also judges the join between neighbouring frames.
    /// </summary>
    Tensor PanoramaWindow(SynthesisInput360 pano, Tensor ws, Tensor? c, bool updateEmas)
    {
        int frame = pano.FrameColumns;
        long start = Draw(360 / pano.Fov * frame);
        Tensor Frame(long column) =>
            Nets.G.Synthesis(ws, Shifted(null, torch.full(ws.shape[0], column / pano.SamplingRate, device: ws.device)), updateEmas: updateEmas, c: c);
        var both = torch.cat(new[] { Frame(start), Frame(start + frame) }, 3);
        long p = both.shape[3] / 2;
        return both.narrow(3, Draw(p + 1), p);
    }

    /// <summary>A uniform integer in [0, n) from the latent generator (part of the resume state).</summary>
    long Draw(long n) => torch.randint(0, n, new long[] { 1 }, generator: _latents).item<long>();

    /// <summary>Transforms [B, 3, 3] (identities when null) moved by dx [B] image units along x; unchanged without dx.</summary>
    static Tensor? Shifted(Tensor? transform, Tensor? dx)
    {
        if (dx is null) return transform;
        var t = transform ?? torch.eye(3, device: dx.device).expand(dx.shape[0], 3, 3);
        var unit = torch.zeros(1, 3, 3, device: dx.device);
        unit[0, 0, 2] = 1;
        return t + dx.to(t.dtype).view(-1, 1, 1) * unit;
    }

    void GMain(Tensor z, Tensor? c, Tensor? transform, Tensor? offset, double gain)
    {
        // The frozen teacher first, while the student's graph does not exist yet: its forward is the phase's largest transient.
        bool withTeacher = Nets.Teacher is not null && _o.TeacherLambda > 0 && transform is not null;
        Tensor? teacherImg = null;
        if (withTeacher)
            using (Stats.Time("Timing/Gmain/teacher")) using (torch.no_grad())
                teacherImg = Nets.Teacher!.forward(z, c, Shifted(null, offset));   // the same class; a panorama's frame at the offset
        Tensor img, logits;
        using (Stats.Time("Timing/Gmain/G")) img = RunG(z, c, Shifted(transform, offset), updateEmas: false);
        using (Stats.Time("Timing/Gmain/D")) logits = Nets.D.call(img, c);
        Stats.Report("Loss/scores/fake", logits);
        var loss = F.softplus(-logits);
        Stats.Report("Loss/G/loss", loss);
        if (withTeacher)
        {
            using var timer = Stats.Time("Timing/Gmain/teacher_loss");
            var (l1, lp) = TeacherLoss(img, teacherImg!, transform!);
            loss = loss + _o.TeacherLambda * (l1 + lp).unsqueeze(1);
            Stats.Report("Loss/G/loss_teacher_l1", l1);
            Stats.Report("Loss/G/loss_teacher_lpips", lp);
            Stats.Report("Loss/G/loss_total", loss);
        }
        // G reaches the loss only through img: backward in two steps, so that D's and the perceptual network's graphs are
        // freed before G's backward recomputes its layers (the same gradients; the peak is the larger graph, not the sum).
        Tensor imgGrad;
        using (Stats.Time("Timing/Gmain/backward_loss")) imgGrad = torch.autograd.grad(new[] { loss.mean() * gain }, new[] { img })[0];
        using (Stats.Time("Timing/Gmain/backward_G")) img.backward(new[] { imgGrad });
    }

    /// <summary>Spec §6.3: masked L1 + masked perceptual distance between the student patch and the teacher's image.</summary>
    (Tensor L1, Tensor Perceptual) TeacherLoss(Tensor student, Tensor teacher, Tensor transform)
    {
        if (_o.TeacherMode == TeacherMode.Inverse)
        {
            var (crop, mask) = AffineWarp.ApplyBatch(student, torch.linalg.inv(transform));
            return (MaskedLoss.L1(crop, teacher, mask), Perceptual(crop, teacher, mask));
        }
        var (teacherCrop, _) = AffineWarp.ApplyBatch(teacher, transform);
        var ones = torch.ones_like(student[.., ..1]);   // forward mode: the mask is forced to ones
        return (MaskedLoss.L1(student, teacherCrop, ones), Perceptual(student, teacherCrop, ones));
    }

    /// <summary><c>adaptive_downsample256</c> on both images and the mask, then the masked mean of the distance map.</summary>
    Tensor Perceptual(Tensor a, Tensor b, Tensor mask)
    {
        a = Downsample256(a.clamp(-1, 1), InterpolationMode.Bilinear);
        b = Downsample256(b.clamp(-1, 1), InterpolationMode.Bilinear);
        mask = Downsample256(mask.clamp(-1, 1), InterpolationMode.Nearest);
        return MaskedLoss.Mean(_perceptual!.Map(a, b), mask);
    }

    static Tensor Downsample256(Tensor x, InterpolationMode mode) =>
        x.shape[^1] > 256
            ? F.interpolate(x, new long[] { 256, 256 }, mode: mode, align_corners: mode == InterpolationMode.Nearest ? null : false)
            : x;

    void DMain(Tensor z, Tensor? genC, Tensor real, Tensor? realC, Tensor? transform, double gain)
    {
        Tensor img;
        using (Stats.Time("Timing/Dmain/G")) using (torch.no_grad()) img = RunG(z, genC, transform, updateEmas: true);
        var genLogits = Nets.D.call(img, genC);
        Stats.Report("Loss/scores/fake", genLogits);
        var lossDgen = F.softplus(genLogits);
        (lossDgen.mean() * gain).backward();

        var realLogits = Nets.D.call(real.detach(), realC);
        Stats.Report("Loss/scores/real", realLogits);
        var lossDreal = F.softplus(-realLogits);
        Stats.Report("Loss/D/loss", lossDgen.detach() + lossDreal.detach());
        (lossDreal.mean() * gain).backward();
    }

    void DReg(Tensor real, Tensor? c, double gain)
    {
        var x = real.detach().requires_grad_(true);
        var logits = Nets.D.call(x, c);
        Stats.Report("Loss/scores/real", logits);
        var grad = torch.autograd.grad(new[] { logits.sum() }, new[] { x }, retain_graph: true, create_graph: true)[0];
        var penalty = grad.square().sum(new long[] { 1, 2, 3 });
        var lossR1 = penalty * (_o.Gamma / 2);
        Stats.Report("Loss/r1_penalty", penalty);
        Stats.Report("Loss/D/reg", lossR1);
        (lossR1.mean() * gain).backward();
    }

    /// <summary>G_ema ← G + β(G_ema − G), β = 0.5^(B / n_ema); n_ema ramps up with 5% of the images seen in stage 1; buffers copied.</summary>
    void UpdateEma()
    {
        double emaNimg = _o.EmaKimg * 1000;
        if (_o.EmaRampup is { } rampup) emaNimg = Math.Min(emaNimg, Counters.CurNimg * rampup);
        double beta = Math.Pow(0.5, _o.Batch / Math.Max(emaNimg, 1e-8));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        foreach (var (ema, live) in _emaParams) ema.copy_(live.lerp(ema, beta));
        foreach (var (ema, live) in _emaBuffers) ema.copy_(live);
    }

    public void Dispose()
    {
        OptG.Dispose();
        OptD.Dispose();
        _latents.Dispose();
        _itemLabels?.Dispose();
    }
}
