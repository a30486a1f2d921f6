using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AnyRes.Ops;

/// <summary>
/// Equalized-learning-rate linear layer (spec 13.1): stored weight ~ N(0,1)·weight_init/lr_multiplier and bias
/// bias_init/lr_multiplier; at run time weight × lr_multiplier/√in and bias × lr_multiplier.
/// </summary>
public sealed class FullyConnectedLayer : nn.Module<Tensor, Tensor>
{
    public readonly int InFeatures, OutFeatures;
    public readonly string Activation;
    readonly double weightGain, biasGain;

    public Parameter weight;
    public Parameter? bias;

    /// <param name="biasInit">Initial bias: one value for every feature, or one per feature.</param>
    public FullyConnectedLayer(int inFeatures, int outFeatures, string activation = "linear", bool bias = true,
        double lrMultiplier = 1, double weightInit = 1, double[]? biasInit = null) : base(nameof(FullyConnectedLayer))
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Activation = activation;
        weight = new Parameter(randn(outFeatures, inFeatures) * (weightInit / lrMultiplier));
        register_parameter("weight", weight);
        if (bias)
        {
            var init = biasInit ?? new[] { 0.0 };
            if (init.Length != 1 && init.Length != outFeatures) throw new ArgumentException($"bias_init has {init.Length} values for {outFeatures} features");
            var values = Enumerable.Range(0, outFeatures).Select(i => (float)(init[init.Length == 1 ? 0 : i] / lrMultiplier)).ToArray();
            this.bias = new Parameter(tensor(values));
            register_parameter("bias", this.bias);
        }
        weightGain = lrMultiplier / Math.Sqrt(inFeatures);
        biasGain = lrMultiplier;
    }

    public FullyConnectedLayer(int inFeatures, int outFeatures, string activation, double lrMultiplier, double weightInit, double biasInit)
        : this(inFeatures, outFeatures, activation, true, lrMultiplier, weightInit, new[] { biasInit }) { }

    public override Tensor forward(Tensor x)
    {
        var w = weight.to(x.dtype) * weightGain;
        var b = bias?.to(x.dtype);
        if (b is not null && biasGain != 1) b = b * biasGain;
        if (Activation == "linear" && b is not null) return addmm(b.unsqueeze(0), x, w.t(), 1, 1);
        return BiasAct.Apply(x.matmul(w.t()), b, act: Activation);
    }
}
