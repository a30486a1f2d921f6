using System.Globalization;
using AnyRes.Data;

namespace AnyRes.Metrics;

/// <summary>
/// A zoom band of the protocol: pFID on patches whose zoom k = N/p lies in [Low, High) — the metric
/// <c>fd-patch{p}-min{Low·p}max{High·p}</c>, whose reals are p×p crops of held-out images resized to a virtual side N
/// uniform in [Low·p, min(High·p, the image's short side)] (High null: up to the short side, <c>max0</c>). An image whose
/// short side is below Low·p cannot supply the band.
/// </summary>
public sealed record ZoomBand(int Low, int? High)
{
    /// <summary>The protocol's bands: 1–2, 2–4, 4–8 and ≥ 8.</summary>
    public static readonly IReadOnlyList<ZoomBand> Default = [new(1, 2), new(2, 4), new(4, 8), new(8, null)];

    public string Name => High is { } h ? $"{Low}–{h}" : $"≥ {Low}";

    public MetricSpec Spec(int p) => MetricSpec.Parse(string.Create(CultureInfo.InvariantCulture, $"fd-patch{p}-min{Low * p}max{(High ?? 0) * p}"));

    /// <summary>How many images can supply the band (short side ≥ Low·p).</summary>
    public int Supplying(IEnumerable<ImageEntry> images, int p) => images.Count(i => i.MinSide >= Low * p);
}
