using AnyRes.Data;
using AnyRes.Ops;
using AnyRes.Training;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AnyRes.Tests.Ops;

public class AffineWarpTests
{
    const double Atol = 1e-4, Rtol = 1e-3;   // fixtures README: the warp

    static AffineWarp.Design DesignOf(Fixture f) => new(
        A: (int)f.Args["a"]!, Amax: (int)f.Args["amax"]!, Aflt: (int)f.Args["aflt"]!, Up: (int)f.Args["up"]!,
        CutoffIn: (double)f.Args["cutoff_in"]!, CutoffOut: (double)f.Args["cutoff_out"]!);

    [Theory]
    [InlineData(1.0, 6.2302e-2, 5.5639e-2, -5.3055e-3)]
    [InlineData(0.5, 1.5638e-2, 1.5198e-2, 1.9013e-3)]
    [InlineData(0.125, 1.0499e-3, 1.0487e-3, 9.6149e-4)]
    public void Filter_matches_the_spec_test_values(double s, double centre, double right1, double right7)
    {
        using var mat = tensor(new float[] { (float)s, 0, 0.1f, 0, (float)s, -0.2f, 0, 0, 1 }, new long[] { 3, 3 });
        using var filter = AffineWarp.Filter2d(mat).to(float64);
        Assert.Equal(new long[] { 127, 127 }, filter.shape);
        Assert.Equal(1.0, filter.sum().item<double>(), 5);
        Assert.Equal(centre, filter[63, 63].item<double>(), 5);
        Assert.Equal(right1, filter[63, 64].item<double>(), 5);
        Assert.Equal(right7, filter[63, 70].item<double>(), 5);
    }

    [Fact, Trait("Category", "Parity")]
    public void Inverse_mode_matches_the_reference_warp_mask_l1_and_gradient()
    {
        using var f = Fixture.Load("teacher_inverse_warp.safetensors");
        using var scope = NewDisposeScope();
        // Sets that keep the first sample's filter (aux.*, debugging values) are compared there first: a failure then says
        // whether the filter design or the warp differs.
        if (f.Aux("bandlimit_filter_0") is { } expectedFilter)
            Close.Assert(AffineWarp.Filter2d(f["in.transform"][0], DesignOf(f)), expectedFilter, Atol, Rtol, "band-limit filter");
        var x = f["in.gen_img"].clone().requires_grad_(true);
        var (crop, mask) = AffineWarp.ApplyBatch(x, torch.linalg.inv(f["in.transform"]), DesignOf(f));
        Close.Assert(crop, f["out.crop"], Atol, Rtol, "crop");
        AssertMaskClose(mask.expand_as(crop), f["out.mask"], "mask");
        var l1 = MaskedLoss.L1(crop, f["in.teacher_img"], mask);
        Close.Assert(l1, f["out.l1"], Atol, Rtol, "masked L1");
        l1.sum().backward();
        Close.Assert(x.grad!, f["grad.gen_img"], Atol, Rtol, "d loss / d gen_img");

        // teacher_mode='forward' (the same warp with the patch transform itself), where a set records it.
        if (f.Aux("forward_mode_crop") is { } forwardCrop && f.Aux("forward_mode_mask") is { } forwardMask)
        {
            var (fCrop, fMask) = AffineWarp.ApplyBatch(f["in.teacher_img"], f["in.transform"], DesignOf(f));
            Close.Assert(fCrop, forwardCrop, Atol, Rtol, "forward-mode crop");
            AssertMaskClose(fMask.expand_as(fCrop), forwardMask, "forward-mode mask");
        }
    }

    /// <summary>
    /// The validity mask is nearest-sampled: a sample point within float32 rounding of a pixel boundary can land in the other
    /// pixel here than in the reference, flipping a mask pixel on its border. A few such mismatches pass (at most 0.1 % of the
    /// mask's elements, at least 1); a shifted or wrongly sized mask differs in far more.
    /// </summary>
    static void AssertMaskClose(Tensor actual, Tensor expected, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        long mismatches = actual.ne(expected).sum().item<long>(), allowed = Math.Max(1, expected.numel() / 1000);
        Assert.True(mismatches <= allowed, $"{what}: {mismatches} of {expected.numel()} mask elements differ (at most {allowed} allowed)");
    }

    /// <summary>Other sizes (non-square too) and zooms against a direct transcription of the per-sample reference: a 2-D filter
    /// designed by 2-D FFTs, zero insertion + full 127×127 convolution, affine_grid + grid_sample.</summary>
    [Fact]
    public void Batched_separable_warp_equals_the_direct_per_sample_computation()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(3);
        var x = torch.randn(2, 1, 36, 44);
        var transforms = PatchTransform.Stack(new[] { PatchTransform.FromCrop(5, 17, 36, 97.5), PatchTransform.FromCrop(126, 130, 36, 288) });
        // Sample 0 in the inverse-mode direction (mat = T), sample 1 in the forward-mode direction (mat = T⁻¹).
        var mats = torch.stack(new[] { transforms[0], torch.linalg.inv(transforms[1]) });
        var (z, m) = AffineWarp.Apply(x, mats);
        for (int i = 0; i < 2; i++)
        {
            var (zi, mi) = Direct(x[i..(i + 1)], mats[i]);
            Assert.True(mi.sum().item<float>() > 0, "the mask keeps some pixels");
            Close.Assert(z[i..(i + 1)], zi, 1e-5, 1e-4, $"warp of sample {i}");
            Close.Assert(m[i..(i + 1)].expand_as(mi), mi, 0, 0, $"mask of sample {i}");
        }
    }

    [Fact]
    public void Rotations_are_refused()
    {
        using var x = torch.zeros(1, 3, 64, 64);
        using var mat = tensor(new float[] { 0.8f, 0.6f, 0, -0.6f, 0.8f, 0, 0, 0, 1 }, new long[] { 1, 3, 3 });
        Assert.Throws<ArgumentException>(() => AffineWarp.Apply(x, mat));
    }

    static (Tensor, Tensor) Direct(Tensor x, Tensor mat)
    {
        const int up = 4, aflt = 64, amax = 16, a = 3;
        long H = x.shape[2], W = x.shape[3];
        var taps = ((torch.arange(aflt * up * 2 - 1, float32) + 1) / up - aflt).roll(1 - aflt * up);
        var mesh = torch.meshgrid(new[] { taps, taps }, indexing: "ij");
        var (yi, xi) = (mesh[0], mesh[1]);
        var o = torch.stack(new[] { xi, yi }, 2).matmul(mat[..2, ..2].t());
        var (xo, yo) = (o[.., .., 0], o[.., .., 1]);
        Tensor Sinc(Tensor v) { var y = (v * Math.PI).abs(); return torch.where(y < 1e-30, torch.ones_like(v), torch.sin(y) / y.clamp_min(1e-30)); }
        Tensor Win(Tensor v) { var r = v.abs() / a; return torch.where(r < 1, Sinc(r), torch.zeros_like(v)); }
        Tensor Conv(Tensor p, Tensor q) => torch.fft.ifftn(torch.fft.fftn(p) * torch.fft.fftn(q)).real;
        var f = Conv(Sinc(xi) * Sinc(yi), Sinc(xo) * Sinc(yo)) * Conv(Win(xi) * Win(yi), Win(xo) * Win(yo));
        int c = (aflt - amax) * up;
        f = f.roll(new long[] { aflt * up - 1, aflt * up - 1 }, new long[] { 0, 1 })[c..^c, c..^c];
        f = F.pad(f, new long[] { 0, 1, 0, 1 }).reshape(amax * 2, up, amax * 2, up);
        f = (f / f.sum(new long[] { 0, 2 }, keepdim: true) / (up * up)).reshape(amax * 2 * up, amax * 2 * up)[..^1, ..^1];
        int p = (int)f.shape[0] / 2;

        // upsample2d(x, f, up=4, padding=p): zero insertion, pad, flipped-filter convolution, gain up².
        long C = x.shape[1];
        var xu = F.pad(x.reshape(1, C, H, 1, W, 1), new long[] { 0, up - 1, 0, 0, 0, up - 1 }).reshape(1, C, H * up, W * up);
        int fw = (int)f.shape[0];
        xu = F.pad(xu, new long[] { p + (fw + up - 1) / 2, p + (fw - up) / 2, p + (fw + up - 1) / 2, p + (fw - up) / 2 });
        var weight = (f * (up * up)).flip(0, 1).reshape(1, 1, fw, fw).repeat(C, 1, 1, 1);
        var yUp = F.conv2d(xu, weight, groups: C);

        var theta = torch.linalg.inv(mat).clone();
        theta[..2, 2] *= 2;
        theta[0, 2] += 1.0 / up / W;
        theta[1, 2] += 1.0 / up / H;
        theta[0, ..] *= W / (W + p / (double)up * 2);
        theta[1, ..] *= H / (H + p / (double)up * 2);
        var g = F.affine_grid(theta[..2, ..].unsqueeze(0), new long[] { 1, C, H, W }, align_corners: false);
        var z = F.grid_sample(yUp, g, GridSampleMode.Bilinear, GridSamplePaddingMode.Zeros, align_corners: false);
        var m = torch.zeros_like(yUp);
        int cm = p * 2 + 1;
        m[.., .., cm..^cm, cm..^cm] = 1;
        m = F.grid_sample(m, g, GridSampleMode.Nearest, GridSamplePaddingMode.Zeros, align_corners: false);
        return (z, m);
    }
}
