using System.Text.RegularExpressions;
using AnyRes.Core;

namespace AnyRes.Metrics;

public enum MetricKind { Full, Up, Patch, Subpatch }

/// <summary>
/// One metric string of spec §9: <c>{fd|kid}-full{R}</c>, <c>-up{R}</c>, <c>-patch{P}-min{A}max{B}</c>,
/// <c>-subpatch{P}-min{A}max{B}</c> (B = 0: up to the native size). <c>fid-…</c> is accepted as <c>fd-…</c>; the result
/// name says which detector produced it (<see cref="ResultName"/>).
/// </summary>
public sealed record MetricSpec(string Statistic, MetricKind Kind, int Size, int Min = 0, int Max = 0)
{
    static readonly Regex Pattern = new(@"^(fd|fid|kid)-(full|up)(\d+)$|^(fd|fid|kid)-(patch|subpatch)(\d+)-min(\d+)max(\d+)$", RegexOptions.Compiled);

    public static MetricSpec Parse(string text)
    {
        var m = Pattern.Match(text.Trim().ToLowerInvariant());
        if (!m.Success)
            throw new AnyResException($"--metrics {text}: expected fd-full{{R}}, fd-up{{R}}, fd-patch{{P}}-min{{A}}max{{B}} or fd-subpatch{{P}}-min{{A}}max{{B}} (or kid-…)");
        MetricSpec spec;
        if (m.Groups[1].Success)
            spec = new(Stat(m.Groups[1].Value), m.Groups[2].Value == "full" ? MetricKind.Full : MetricKind.Up, int.Parse(m.Groups[3].Value));
        else
            spec = new(Stat(m.Groups[4].Value), m.Groups[5].Value == "patch" ? MetricKind.Patch : MetricKind.Subpatch,
                int.Parse(m.Groups[6].Value), int.Parse(m.Groups[7].Value), int.Parse(m.Groups[8].Value));
        if (spec.Size < 1) throw new AnyResException($"--metrics {text}: size must be positive");
        if (spec.Kind is MetricKind.Patch or MetricKind.Subpatch && (spec.Min < spec.Size || spec.Max != 0 && spec.Max < spec.Min))
            throw new AnyResException($"--metrics {text}: need P ≤ min A and (max B = 0 or B ≥ A)");
        return spec;
    }

    static string Stat(string s) => s == "kid" ? "kid" : "fd";

    /// <summary>The part after the statistic: <c>full256</c>, <c>patch256-min256max0</c>.</summary>
    public string Label => Kind switch
    {
        MetricKind.Full => $"full{Size}",
        MetricKind.Up => $"up{Size}",
        MetricKind.Patch => $"patch{Size}-min{Min}max{Max}",
        _ => $"subpatch{Size}-min{Min}max{Max}",
    };

    /// <summary><c>fd_resnet18_full256</c> / <c>kid_resnet18_…</c> with the ResNet18, <c>fid_full256</c> / <c>kid_…</c> with Inception.</summary>
    public string ResultName(string detector) => detector == "inception"
        ? $"{(Statistic == "fd" ? "fid" : "kid")}_{Label}"
        : $"{Statistic}_{detector}_{Label}";

    /// <summary>Patch dataset scale limits: scale_max = P/A, scale_min = P/B (B = 0: none, native size).</summary>
    public (double ScaleMax, double? ScaleMin) Scales => ((double)Size / Min, Max == 0 ? null : (double)Size / Max);

    /// <summary>Reals and fakes are equivalent across statistics: FD and KID of one label share features.</summary>
    public bool PatchLike => Kind is MetricKind.Patch or MetricKind.Subpatch;
}
