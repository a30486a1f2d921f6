using AnyRes.Core;
using AnyRes.Data;
using AnyRes.Networks;
using TorchSharp;
using static TorchSharp.torch;

using Generator = AnyRes.Networks.Generator;

namespace AnyRes.Training;

/// <summary>
/// The snapshot image: G_ema on fixed seeds (the same latents at every snapshot), and for a patch generator an extra row of
/// centre patches of seed 0 at zoom 1, 2, 4 and 8, so finer detail at higher zoom is visible across snapshots. A conditional
/// G renders row r as class r (at least one row per class, up to 8 rows) and the zoom row as class 0.
/// </summary>
public static class SampleGrid
{
    public const int Columns = 4;
    public static readonly double[] Zooms = { 1, 2, 4, 8 };

    /// <summary>Renders the grid as HWC uint8 [rows·p, Columns·p, 3].</summary>
    public static Tensor Render(Generator G, int rows, Device device)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        if (G.CDim > 0) rows = Math.Clamp(G.CDim, rows, 8);
        int n = rows * Columns;
        var z = torch.cat(Enumerable.Range(0, n).Select(Latent(G.ZDim)).ToArray()).to(device);
        Tensor? Labels(IEnumerable<int> classes) =>
            G.CDim == 0 ? null : torch.nn.functional.one_hot(torch.tensor(classes.Select(k => (long)(k % G.CDim)).ToArray()), G.CDim).to(float32).to(device);
        var c = Labels(Enumerable.Range(0, n).Select(i => i / Columns));
        var images = new List<Tensor>();
        for (long i = 0; i < n; i += 4)
        {
            long m = Math.Min(4, n - i);
            images.Add(G.forward(z.narrow(0, i, m), c?.narrow(0, i, m), G.HasScaleMapping ? Identity(m, device) : null));
        }
        if (G.HasScaleMapping)
        {
            int p = G.ImgResolution;
            var transforms = PatchTransform.Stack(Zooms.Select(k => PatchTransform.FromCrop((k * p - p) / 2, (k * p - p) / 2, p, k * p)).ToArray(), device);
            var z0 = Latent(G.ZDim)(0).to(device).expand(Zooms.Length, -1);
            images.Add(G.forward(z0, Labels(new int[Zooms.Length]), transforms));
        }
        var all = torch.cat(images.ToArray());
        long r = all.shape[0] / Columns, s = all.shape[2];
        var grid = all.reshape(r, Columns, 3, s, s).permute(0, 3, 1, 4, 2).reshape(r * s, Columns * s, 3);
        return (grid * 127.5 + 128).clamp(0, 255).to(ScalarType.Byte).cpu().MoveToOuterDisposeScope();
    }

    static Func<int, Tensor> Latent(int zDim) => seed =>
    {
        using var g = new torch.Generator((ulong)seed);
        return torch.randn(new long[] { 1, zDim }, generator: g);
    };

    static Tensor Identity(long n, Device device) => torch.eye(3, device: device).expand(n, 3, 3);

    public static void WritePng(string path, Tensor hwc) =>
        AtomicFile.WriteAllBytes(path, SynthImages.EncodePng(new RgbImage((int)hwc.shape[1], (int)hwc.shape[0], hwc.contiguous().data<byte>().ToArray())));
}
