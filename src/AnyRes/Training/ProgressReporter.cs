using System.Diagnostics;
using System.Globalization;

namespace AnyRes.Training;

/// <summary>
/// The live progress line: kimg, iterations/s, ETA and the latest losses. On a terminal it redraws one line with a bar a few
/// times a second; otherwise (CI, a log file) it prints a plain line every <see cref="PlainInterval"/>.
/// </summary>
public sealed class ProgressReporter(TextWriter output, bool interactive, double totalKimg)
{
    public static TimeSpan PlainInterval { get; set; } = TimeSpan.FromSeconds(30);
    static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(250);

    readonly Stopwatch _clock = Stopwatch.StartNew();
    TimeSpan? _lastPrint;
    long _startIterations = -1;
    double _startKimg;
    bool _lineOpen;

    public static ProgressReporter ForConsole(double totalKimg) =>
        new(Console.Error, !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("CI") is null, totalKimg);

    public void Update(double kimg, long iterations, IReadOnlyList<(string Name, double Value)> losses, bool force = false)
    {
        if (_startIterations < 0) { _startIterations = iterations; _startKimg = kimg; }
        var now = _clock.Elapsed;
        if (!force && _lastPrint is { } last && now - last < (interactive ? RedrawInterval : PlainInterval)) return;
        _lastPrint = now;
        double seconds = Math.Max(now.TotalSeconds, 1e-9);
        double itPerSec = (iterations - _startIterations) / seconds;
        double kimgPerSec = (kimg - _startKimg) / seconds;
        string eta = kimgPerSec > 0 ? Format(TimeSpan.FromSeconds((totalKimg - kimg) / kimgPerSec)) : "?";
        var lossText = string.Join(" ", losses.Select(l => $"{l.Name} {l.Value.ToString("0.000", CultureInfo.InvariantCulture)}"));
        var stats = string.Create(CultureInfo.InvariantCulture, $"kimg {kimg:0.000}/{totalKimg:0.###}  {itPerSec:0.00} it/s  ETA {eta}  {lossText}");
        if (interactive)
        {
            double fraction = Math.Clamp(kimg / totalKimg, 0, 1);
            int filled = (int)(fraction * 20);
            output.Write($"\r[{new string('#', filled)}{new string('-', 20 - filled)}] {fraction * 100,5:0.0}%  {stats}\u001b[K");
            _lineOpen = true;
        }
        else output.WriteLine(stats);
        output.Flush();
    }

    /// <summary>A message on its own line (ticks, snapshots) without tearing the live line.</summary>
    public void Message(string text)
    {
        if (_lineOpen) { output.WriteLine(); _lineOpen = false; }
        output.WriteLine(text);
        output.Flush();
    }

    public void Finish()
    {
        if (_lineOpen) { output.WriteLine(); _lineOpen = false; }
    }

    static string Format(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:00}m" : t.TotalMinutes >= 1 ? $"{t.Minutes}m{t.Seconds:00}s" : $"{t.Seconds}s";
}
