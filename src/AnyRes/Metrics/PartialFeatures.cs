using System.Diagnostics;
using AnyRes.Core;
using TorchSharp;

namespace AnyRes.Metrics;

/// <summary>
/// The features of an unfinished metric pass, saved (atomically) every <c>seconds</c> so that a run that is interrupted
/// resumes where it stopped. The file name carries a hash of everything the features depend on; the file is deleted once
/// the pass completes.
/// </summary>
sealed class PartialFeatures(string path, double seconds)
{
    readonly Stopwatch sinceSave = Stopwatch.StartNew();

    public (FeatureStatistics Stats, Dictionary<string, torch.Tensor> Extra) Load()
    {
        if (!File.Exists(path)) return (new FeatureStatistics(), []);
        var file = SafetensorsFile.Read(path);
        var stats = FeatureStatistics.FromTensors(file.Tensors);
        var extra = new Dictionary<string, torch.Tensor>();
        foreach (var (name, t) in file.Tensors)
            if (name is "transforms" or "offsets") extra[name] = t; else t.Dispose();
        return (stats, extra);
    }

    /// <summary>Saves when the interval has passed and more batches follow (a finished pass goes to its final home instead).</summary>
    public void Save(FeatureStatistics stats, bool more, Func<Dictionary<string, torch.Tensor>> extra)
    {
        if (!more || sinceSave.Elapsed.TotalSeconds < seconds) return;
        using var scope = torch.NewDisposeScope();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        stats.Save(path, extra(), new Dictionary<string, string> { ["anyres.partial"] = "1" });
        sinceSave.Restart();
    }

    public void Delete() => File.Delete(path);
}
