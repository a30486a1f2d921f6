using System.Globalization;
using System.Text.Json;
using AnyRes.Core;
using AnyRes.Networks;
using AnyRes.Training;

namespace AnyRes.Metrics;

/// <summary>What one run of the reproduction protocol (<see cref="ReproduceProtocol"/>) is asked to do.</summary>
public sealed record ReproduceSettings
{
    /// <summary>Shares of the budget: stage 1, then stage 2; the remaining 15 % is kept for the split, the metric pass and the picture.</summary>
    public const double Stage1Share = 0.45, Stage2Share = 0.40;

    public required string Data { get; init; }
    public required string Out { get; init; }
    public double Hours { get; init; } = 2;
    public string Preset { get; init; } = "cpu";
    public int Seed { get; init; }
    public ScaleConditioning ScaleConditioning { get; init; } = ScaleConditioning.Parity;
    /// <summary>Patches per zoom band (and fakes of the full-image row); null: 400 per hour of budget, 48..2000.</summary>
    public int? Num { get; init; }
    /// <summary>Half-sample rounds of the spread.</summary>
    public int Rounds { get; init; } = 20;
    /// <summary>
    /// The out folder of another run on the same data, preset and seed whose stage 1 is done: this run takes that stage-1
    /// model instead of training its own (stage 1 does not depend on the scale conditioning, so an ablation of stage 2
    /// spends its whole budget on stage 2 and compares against the same teacher).
    /// </summary>
    public string? Stage1From { get; init; }
    /// <summary>The command line, for results.md (not part of what the run is).</summary>
    public string Command { get; init; } = "";
    /// <summary>Applied to both stages' options after the preset (tests shrink the networks with it; not part of the fingerprint).</summary>
    public Func<TrainingOptions, TrainingOptions>? AdjustTraining { get; init; }

    /// <summary>The conditioning as the flag spells it: parity or log-zoom.</summary>
    public string ConditioningName => JsonNamingPolicy.KebabCaseLower.ConvertName(ScaleConditioning.ToString());

    /// <summary>
    /// Patches per band. The metric pass runs ~15 images through ResNet18 per patch (per band: the reals, two fakes; four
    /// bands and the full-image row) at ~60–80 ms each on 2 cores, so 400 per hour keeps it within the 15 % left of the budget.
    /// </summary>
    public int Patches => Num ?? Math.Clamp((int)Math.Round(400 * Hours), 48, 2000);

    public double TotalSeconds => Hours * 3600;

    public void Validate()
    {
        if (!(Hours > 0 && Hours <= 1000)) throw new AnyResException($"--hours {Hours.ToString(CultureInfo.InvariantCulture)}: expected a positive number of hours (at most 1000)");
        if (Num is < 8) throw new AnyResException($"--num {Num}: need at least 8 patches per band (the spread takes halves)");
        if (Rounds < 2) throw new AnyResException($"--rounds {Rounds}: the spread needs at least 2 rounds");
        _ = TrainingOptions.Preset(Preset, TrainingMode.Global);   // names the preset in one line if unknown
    }

    /// <summary>Everything that decides the results; a re-run with the same --out must match it to continue.</summary>
    public string Fingerprint() => JsonSerializer.Serialize(new
    {
        data = Path.GetFullPath(Data), hours = Hours, preset = Preset, seed = Seed,
        scale_conditioning = ConditioningName, patches = Patches, rounds = Rounds,
        stage1_from = Stage1From is null ? null : Path.GetFullPath(Stage1From),
    }, FingerprintJson);

    static readonly JsonSerializerOptions FingerprintJson = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    /// <summary>Whether a run with this fingerprint trained stage 1 exactly as this run would (same data, preset and seed).</summary>
    public bool SharesStage1With(string fingerprint)
    {
        using var other = JsonDocument.Parse(fingerprint);
        var root = other.RootElement;
        string? Text(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        return Text("data") == Path.GetFullPath(Data) && Text("preset") == Preset
            && root.TryGetProperty("seed", out var seed) && seed.TryGetInt32(out var s) && s == Seed;
    }
}
