using System.Text.Json.Nodes;
using AnyRes.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Tests;

/// <summary>
/// Parity fixtures produced by the reference code. Tests read them from the copy in tests/fixtures, or from the folder named
/// by ANYRES_FIXTURES (an independent set of identically named files): every module is built from the constructor arguments
/// in the file's own metadata, never from values assumed here.
/// </summary>
public sealed class Fixture : IDisposable
{
    public required string Name { get; init; }
    public required SafetensorsFile File { get; init; }
    /// <summary>The parsed <c>fixture</c> JSON document from the header metadata.</summary>
    public required JsonObject Meta { get; init; }

    /// <summary>Constructor arguments recorded by the reference.</summary>
    public JsonObject Args => Meta["constructor"]?.AsObject() ?? throw new KeyNotFoundException($"{Name}: no constructor arguments in metadata");

    public static string Folder =>
        Environment.GetEnvironmentVariable("ANYRES_FIXTURES") is { Length: > 0 } env ? env : Path.Combine(AppContext.BaseDirectory, "fixtures");

    /// <summary>Fixtures this project made itself (tests/extra-fixtures, each with the script that made it): never replaced by ANYRES_FIXTURES.</summary>
    public static string ExtraFolder => Path.Combine(AppContext.BaseDirectory, "extra-fixtures");

    public static Fixture Load(string fileName) => LoadFrom(Folder, fileName);

    public static Fixture LoadExtra(string fileName) => LoadFrom(ExtraFolder, fileName);

    static Fixture LoadFrom(string folder, string fileName)
    {
        var path = Path.Combine(folder, fileName);
        var file = SafetensorsFile.Read(path);
        var meta = JsonNode.Parse(file.Metadata["fixture"])!.AsObject();
        return new Fixture { Name = fileName, File = file, Meta = meta };
    }

    /// <summary>Regex for a number as Python prints it in a description (sign, optional fraction, exponent).</summary>
    public const string Number = @"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?";

    public Tensor this[string name] => File.Tensors.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"{Name}: no tensor '{name}'");
    public bool Has(string name) => File.Tensors.ContainsKey(name);

    /// <summary>
    /// An <c>aux.*</c> debugging tensor, or null: the format guarantees only the constructor arguments, <c>state.*</c>,
    /// <c>in.*</c>, <c>out.*</c> and <c>grad.*</c> (fixtures README), so a test compares intermediates only where a set has them,
    /// to say where a failure starts, and never requires them.
    /// </summary>
    public Tensor? Aux(string name) => File.Tensors.TryGetValue("aux." + name, out var t) ? t : null;
    public IEnumerable<string> Names(string prefix) => File.Tensors.Keys.Where(k => k.StartsWith(prefix)).Select(k => k[prefix.Length..]);

    /// <summary>The <c>state.*</c> tensors with the prefix removed: a state dict to load into the module under test.</summary>
    public Dictionary<string, Tensor> State() => Names("state.").ToDictionary(k => k, k => this["state." + k]);

    public void Dispose() { foreach (var t in File.Tensors.Values) t.Dispose(); }
}

/// <remarks>
/// No implicit Scalars here: TorchSharp 0.107 lets the garbage collector finalize a temporary Scalar while the native op
/// that received its handle still reads it (seen as "Expected false to be true" from c10::Scalar::toDouble in masked_fill
/// under a loaded full suite), so constants are tensors.
/// </remarks>
public static class Close
{
    /// <summary>Asserts |a − b| ≤ atol + rtol·|b| elementwise (b = the reference's value), reporting the worst element.</summary>
    public static void Assert(Tensor actual, Tensor expected, double atol, double rtol, string what)
    {
        var (a, b) = Prepare(actual, expected, what);
        using (a) using (b)
        {
            // Equal values (equal infinities too) pass, rather than giving inf − inf = NaN.
            using var same = a.eq(b);
            using var zero = zeros(1, dtype: float64);
            using var tolerance = b.abs() * tensor(rtol, float64) + tensor(atol, float64);
            using var diff = where(same, zero, (a - b).abs());
            using var excess = where(same, zero, diff - tolerance);
            var worst = excess.max().item<double>();
            if (!(worst <= 0))   // NaN here: an infinity against a finite value, a failure too
                Xunit.Assert.Fail($"{what}: max |a-b| = {diff.max().item<double>():g4} exceeds tolerance {atol:g2} + {rtol:g2}|b| (by {worst:g4})");
        }
    }

    /// <summary>
    /// For float32 results that grow with the size of the case (reductions over every pixel of a grid, sines of arguments
    /// that grow with the grid's extent): the same computation in float64 is the referee. The reference's float32 value must
    /// lie within <c>atol + rtol|b|</c> plus <see cref="RoundingFactor"/> times the largest float32 rounding error of our
    /// own computation (|ours32 − ours64|, measured on this case) of the float64 value, and ours within the same bound.
    /// A real difference in the maths shows as a distance from the float64 value far beyond either side's rounding; the
    /// reference's rounding differs from ours only by accumulation order, so a small multiple covers it at any size.
    /// </summary>
    public static void AssertWithinRounding(Tensor ours32, Tensor reference32, Tensor ours64, double atol, double rtol, string what)
    {
        var (exact, reference) = Prepare(ours64, reference32, what);
        var (ours, _) = Prepare(ours32, reference32, what);
        using (exact) using (reference) using (ours)
        {
            double rounding = (ours - exact).abs().max().item<double>();
            double slack = RoundingFactor * rounding;
            Assert(reference, exact, atol + slack, rtol, $"{what} (reference vs float64; our float32 rounding here {rounding:g3})");
            Assert(ours, exact, atol + slack, rtol, $"{what} (ours vs float64)");
        }
    }

    /// <summary>
    /// How far the reference's float32 rounding may exceed ours. Measured on synthesis_input at grid sizes 36, 100 and 160
    /// (reference code, float32 vs float64): the ratio of the two sides' largest errors stayed within 0.45–2.9 for x and every
    /// gradient; 8 leaves a margin and is still orders of magnitude below a real difference (≥ 1e-2 relative).
    /// </summary>
    public const double RoundingFactor = 8;

    /// <summary>
    /// Float64 CPU copies of both sides, with 0 where both are NaN. Fails unless the NaNs are at the same positions: every
    /// comparison with a NaN is false, so a NaN would otherwise pass a tolerance check silently.
    /// </summary>
    internal static (Tensor A, Tensor B) Prepare(Tensor actual, Tensor expected, string what)
    {
        Xunit.Assert.Equal(expected.shape, actual.shape);
        using var a = actual.detach().cpu().to(float64);
        using var b = expected.detach().cpu().to(float64);
        using var aNan = a.isnan();
        using var bNan = b.isnan();
        if (!aNan.eq(bNan).all().item<bool>())
            Xunit.Assert.Fail($"{what}: NaN in {aNan.sum().item<long>()} result and {bNan.sum().item<long>()} reference elements, not at the same positions");
        using var zero = zeros(1, dtype: float64);
        return (where(bNan, zero, a), where(bNan, zero, b));
    }
}
