using TorchSharp;

namespace AnyRes.Core;

/// <summary>Shape checks at module boundaries (StyleGAN's misc.assert_shape): -1 means any size.</summary>
public static class Shapes
{
    public static void Assert(torch.Tensor x, params long[] expected)
    {
        var shape = x.shape;
        bool ok = shape.Length == expected.Length;
        for (int i = 0; ok && i < shape.Length; i++) ok = expected[i] < 0 || expected[i] == shape[i];
        if (!ok)
            throw new ArgumentException($"tensor has shape [{string.Join(", ", shape)}], expected [{string.Join(", ", expected.Select(e => e < 0 ? "*" : e.ToString()))}]");
    }
}
