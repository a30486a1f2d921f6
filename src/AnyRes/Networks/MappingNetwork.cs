using AnyRes.Core;
using AnyRes.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Networks;

/// <summary>
/// SG3 mapping network (spec 13.1): 2nd-moment normalised z (and embedded label), lrelu FC layers with a small learning
/// rate, a running average of w for truncation, broadcast to num_ws.
/// </summary>
public sealed class MappingNetwork : nn.Module
{
    public readonly int ZDim, CDim, WDim, NumWs, NumLayers;
    public readonly double WAvgBeta;
    /// <summary>False only for the log-zoom scale branch, whose 1-D input the normalisation would reduce to its sign.</summary>
    public readonly bool NormalizeInput;

    readonly FullyConnectedLayer? embed;
    readonly FullyConnectedLayer[] fcs;
    public readonly Tensor w_avg;

    public MappingNetwork(int zDim, int cDim, int wDim, int numWs, int numLayers = 2, double lrMultiplier = 0.01, double wAvgBeta = 0.998, bool normalizeInput = true)
        : base(nameof(MappingNetwork))
    {
        (ZDim, CDim, WDim, NumWs, NumLayers, WAvgBeta, NormalizeInput) = (zDim, cDim, wDim, numWs, numLayers, wAvgBeta, normalizeInput);
        if (cDim > 0)
        {
            embed = new FullyConnectedLayer(cDim, wDim);
            register_module("embed", embed);
        }
        fcs = new FullyConnectedLayer[numLayers];
        for (int i = 0; i < numLayers; i++)
        {
            fcs[i] = new FullyConnectedLayer(i == 0 ? zDim + (cDim > 0 ? wDim : 0) : wDim, wDim, "lrelu", lrMultiplier: lrMultiplier);
            register_module($"fc{i}", fcs[i]);
        }
        w_avg = zeros(wDim);
        register_buffer("w_avg", w_avg);
    }

    static Tensor Normalize2ndMoment(Tensor x) => x * (x.square().mean(new long[] { 1 }, keepdim: true) + 1e-8).rsqrt();

    /// <summary>z [B, z_dim], c [B, c_dim] (null when c_dim = 0) → ws [B, num_ws, w_dim].</summary>
    public Tensor forward(Tensor z, Tensor? c, double truncationPsi = 1, int? truncationCutoff = null, bool updateEmas = false)
    {
        Shapes.Assert(z, -1, ZDim);
        var x = z.to(float32);
        if (NormalizeInput) x = Normalize2ndMoment(x);
        if (CDim > 0)
        {
            if (c is null) throw new ArgumentException($"the mapping network is conditional (c_dim {CDim}) but no label was given");
            Shapes.Assert(c, z.shape[0], CDim);
            x = cat(new[] { x, Normalize2ndMoment(embed!.forward(c.to(float32))) }, 1);
        }
        foreach (var fc in fcs) x = fc.forward(x);

        if (updateEmas)
            using (no_grad()) w_avg.copy_(x.detach().mean(new long[] { 0 }).lerp(w_avg, WAvgBeta));

        x = x.unsqueeze(1).repeat(1, NumWs, 1);
        if (truncationPsi != 1)
        {
            int cutoff = truncationCutoff ?? NumWs;
            var head = w_avg.lerp(x.narrow(1, 0, cutoff), truncationPsi);
            x = cutoff == NumWs ? head : cat(new[] { head, x.narrow(1, cutoff, NumWs - cutoff) }, 1);
        }
        return x;
    }
}
