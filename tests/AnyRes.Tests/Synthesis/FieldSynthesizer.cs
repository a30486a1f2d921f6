using AnyRes.Synthesis;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Tests.Synthesis;

/// <summary>
/// An analytic stand-in for the generator: output pixel g of a tile shows the smooth field F(q) at q = T·g (spec §4.4), with
/// per-channel phases taken from ws [B, channels]. Tiling is then exactly checkable: every output pixel must equal F at the
/// centre of its canvas pixel.
/// </summary>
sealed class FieldSynthesizer(int tileSize, int channels = 3) : ITileSynthesizer
{
    public int TileSize { get; } = tileSize;
    public int Channels { get; } = channels;
    public Device Device => CPU;
    public int Calls { get; private set; }

    /// <summary>F_c(qx, qy) in SG3 units (the frame spans [−0.5, 0.5]).</summary>
    public static double Field(int c, double qx, double qy, double phase) =>
        0.9 * Math.Sin(2 * Math.PI * ((1.5 + c) * qx + (2.5 - c) * qy + 4 * qx * qy) + phase);

    public static Tensor Latent(params double[] phases) => tensor(phases, new long[] { 1, phases.Length }, float64);

    public Tensor Synthesize(Tensor ws, Tensor transforms)
    {
        Calls++;
        long b = ws.shape[0];
        var t = transforms.to(float64);
        var g = (arange(TileSize, float64) + 0.5) / TileSize - 0.5;
        var qx = t[.., 0, 0].view(b, 1, 1) * g.view(1, 1, -1) + t[.., 0, 2].view(b, 1, 1);   // varies along columns
        var qy = t[.., 1, 1].view(b, 1, 1) * g.view(1, -1, 1) + t[.., 1, 2].view(b, 1, 1);   // varies along rows
        var planes = Enumerable.Range(0, Channels).Select(c =>
            0.9 * sin(2 * Math.PI * ((1.5 + c) * qx + (2.5 - c) * qy + 4 * qx * qy) + ws[.., c].view(b, 1, 1))).ToArray();
        return stack(planes, 1).to(float32);
    }
}
