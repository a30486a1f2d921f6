using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AnyRes.Ops;

/// <summary>StyleGAN's bias_act (reference path): add a per-channel bias, activate, scale by a gain, clamp.</summary>
public static class BiasAct
{
    /// <summary>Default gain of each activation (√2 for the ReLU family, as in the reference's activation table).</summary>
    public static double DefaultGain(string act) => act switch
    {
        "linear" or "tanh" or "sigmoid" => 1.0,
        "relu" or "lrelu" => Math.Sqrt(2),
        _ => throw new ArgumentException($"unknown activation '{act}'"),
    };

    /// <summary>alpha = leaky ReLU slope (default 0.2 for 'lrelu'); clamp = null disables clamping.</summary>
    public static Tensor Apply(Tensor x, Tensor? b = null, int dim = 1, string act = "linear", double? alpha = null, double? gain = null, double? clamp = null)
    {
        double g = gain ?? DefaultGain(act);
        if (b is not null)
        {
            var shape = Enumerable.Repeat(1L, (int)x.dim()).ToArray();
            shape[dim] = -1;
            x = x + b.reshape(shape);
        }
        x = act switch
        {
            "linear" => x,
            "relu" => F.relu(x),
            "lrelu" => F.leaky_relu(x, alpha ?? 0.2),
            "tanh" => x.tanh(),
            "sigmoid" => x.sigmoid(),
            _ => throw new ArgumentException($"unknown activation '{act}'"),
        };
        if (g != 1) x = x * g;
        if (clamp is double c) x = x.clamp(-c, c);
        return x;
    }
}
