using static TorchSharp.torch;

namespace AnyRes.Tests.Networks;

/// <summary>
/// Gradient comparison through leaky ReLUs. A pre-activation within float32 rounding of 0 can take the other branch
/// here than in the reference (a different but equally valid summation order), which changes the gradient of every input
/// in that sample's filter footprint and, through the styles, of every w and weight element slightly, while the forward
/// output is continuous and still matches elementwise. So a gradient passes at the README's elementwise tolerance, or
/// else with relative L2 error ≤ 1e-3 and no element off by more than 1 % of the gradient's largest magnitude.
/// </summary>
public static class GradientClose
{
    public static void Assert(Tensor actual, Tensor expected, double atol, double rtol, string what)
    {
        var (a, b) = Close.Prepare(actual, expected, what);
        using (a) using (b)
        {
            using var zero = zeros(1, dtype: float64);
            using var diff = where(a.eq(b), zero, (a - b).abs());
            // "≤" rather than "not >": an infinity against a finite value gives a NaN difference, which must not pass.
            if ((diff <= b.abs() * tensor(rtol, float64) + tensor(atol, float64)).all().item<bool>()) return;
            double relL2 = (diff.norm() / (b.norm() + 1e-30)).item<double>();
            double worst = diff.max().item<double>(), scale = b.abs().max().item<double>();
            Xunit.Assert.True(relL2 <= 1e-3 && worst <= 0.01 * scale + atol,
                $"{what}: relative L2 error {relL2:g3}, max |a-b| {worst:g3} (max |b| {scale:g3})");
        }
    }
}
