using System.Diagnostics;
using AnyRes.Core;
using AnyRes.Data;
using AnyRes.Networks;
using SkiaSharp;
using TorchSharp;

namespace AnyRes.Tests.Core;

/// <summary>
/// Deterministic mutations of one valid file per format (issue 23, item 5) fed to the decoder a user's file goes through:
/// images as a dataset reads them (header, then the whole decode), an AnyRes checkpoint as every verb loads it (parse, build
/// the networks, strict load), an official snapshot as <c>anyres import</c> does (scan, unpickle, map, build and check every
/// tensor). Each input must be accepted or refused with one <see cref="AnyResException"/> line within
/// <see cref="TimeLimit"/>; anything else (another exception, a hang) is a failure. A native crash ends the process, which
/// the caller sees as the run not finishing. Shared by the test (a few hundred inputs) and <c>AnyRes.Bench fuzz</c> (10,000).
/// </summary>
public static class DecoderFuzzer
{
    public static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(5);

    /// <summary>A format: its valid file, the bytes its header spans (where header edits land) and the decoder, given a path.</summary>
    public sealed record Target(string Format, string Extension, byte[] Valid, int HeaderBytes, bool TextHeader, Action<string> Decode);

    public sealed record Failure(string Format, int Index, string Mutation, string What);

    public sealed class Report
    {
        public int Inputs, Accepted, Refused;
        public double MaxSeconds;
        public string? SlowestInput;
        public readonly List<Failure> Failures = [];
        /// <summary>Refusal reasons by their text without the file name and numbers, with counts (what the mutations reached).</summary>
        public readonly SortedDictionary<string, int> Reasons = new(StringComparer.Ordinal);
    }

    /// <summary>The four formats, their valid files made here (the snapshot copied from <paramref name="officialPkl"/>).</summary>
    public static IReadOnlyList<Target> Targets(string officialPkl, string scratch)
    {
        var image = SynthImages.Make(7, 0, 48, 64);
        var jpeg = SynthImages.Encode(image, SKEncodedImageFormat.Jpeg, 90);
        var png = SynthImages.EncodePng(image);

        // A small AnyRes checkpoint (G only, narrow channels): every byte of it is structure or a few weights.
        var checkpoint = Path.Combine(scratch, "valid.safetensors");
        torch.manual_seed(0);
        using (var G = new AnyRes.Networks.Generator(GeneratorOptions.Tiny(16) with { ChannelBase = 64, ChannelMax = 8, ZDim = 8, WDim = 8 }))
            NetworkCheckpoint.Save(checkpoint, G, null, null);
        var safetensors = File.ReadAllBytes(checkpoint);
        var pkl = File.ReadAllBytes(officialPkl);

        return
        [
            new("jpeg", ".jpg", jpeg, Math.Min(jpeg.Length, 640), false, DecodeImage),
            new("png", ".png", png, 64, false, DecodeImage),
            new("safetensors", ".safetensors", safetensors, 8 + (int)BitConverter.ToInt64(safetensors, 0), true, LoadCheckpoint),
            new("pkl", ".pkl", pkl, 4096, false, path => ImportSnapshot(path, scratch)),
        ];
    }

    static void DecodeImage(string path)
    {
        using var data = SKData.Create(path) ?? throw AnyResException.ForFile(path, "cannot be read");
        ImageCodec.ReadHeader(data, path);
        ImageCodec.Decode(data, path);
    }

    static void LoadCheckpoint(string path)
    {
        using var scope = torch.NewDisposeScope();
        var n = NetworkCheckpoint.Load(path, torch.CPU);
        n.G?.Dispose(); n.G_ema?.Dispose(); n.D?.Dispose();
    }

    static void ImportSnapshot(string path, string scratch)
    {
        using var scope = torch.NewDisposeScope();
        var target = Path.Combine(scratch, "imported.safetensors");
        OfficialSnapshot.Read(path).Save(path, target);
        File.Delete(target);
    }

    /// <summary>Mutation <paramref name="index"/> of <paramref name="t"/>'s file: bit flips, a truncation, or a header edit (bytes or, in a JSON header, numbers).</summary>
    public static byte[] Mutate(Target t, int index, out string description)
    {
        var rng = new Random(index * 7919 + t.Format.Length);   // System.Random with a seed: the same sequence on every run
        var bytes = (byte[])t.Valid.Clone();
        switch (index % 4)
        {
            case 0:
            {
                int n = 1 + rng.Next(8);
                var at = Enumerable.Range(0, n).Select(_ => rng.Next(bytes.Length)).ToArray();
                foreach (var p in at) bytes[p] ^= (byte)(1 << rng.Next(8));
                description = $"flip {n} bits at {string.Join(",", at)}";
                return bytes;
            }
            case 1:
            {
                // Half anywhere, half within the header, where the structure is.
                int length = rng.Next(2) == 0 ? rng.Next(bytes.Length) : rng.Next(Math.Min(bytes.Length, t.HeaderBytes + 16));
                description = $"truncate to {length} bytes";
                return bytes[..length];
            }
            case 2:
            {
                byte[] special = [0x00, 0xFF, 0x7F, 0x80, 0x01];
                int n = 1 + rng.Next(4);
                var at = Enumerable.Range(0, n).Select(_ => rng.Next(t.HeaderBytes)).ToArray();
                foreach (var p in at) bytes[p] = rng.Next(2) == 0 ? special[rng.Next(special.Length)] : (byte)rng.Next(256);
                description = $"header bytes at {string.Join(",", at)}";
                return bytes;
            }
            default:
                return t.TextHeader ? EditNumber(bytes, t.HeaderBytes, rng, out description) : EditWord(bytes, t.HeaderBytes, rng, out description);
        }
    }

    /// <summary>A JSON header: one number (a shape, an offset) gets other digits of the same length, so the header still parses.</summary>
    static byte[] EditNumber(byte[] bytes, int headerBytes, Random rng, out string description)
    {
        var digits = Enumerable.Range(8, headerBytes - 8).Where(i => bytes[i] is >= (byte)'0' and <= (byte)'9').ToArray();
        int at = digits[rng.Next(digits.Length)], end = at;
        while (at > 8 && bytes[at - 1] is >= (byte)'0' and <= (byte)'9') at--;
        while (end < headerBytes && bytes[end] is >= (byte)'0' and <= (byte)'9') end++;
        for (int i = at; i < end; i++) bytes[i] = (byte)('0' + rng.Next(10));
        description = $"number at {at}..{end} -> {System.Text.Encoding.ASCII.GetString(bytes, at, end - at)}";
        return bytes;
    }

    /// <summary>A binary header: a 16- or 32-bit big-endian field (image sizes, lengths) set to an extreme value.</summary>
    static byte[] EditWord(byte[] bytes, int headerBytes, Random rng, out string description)
    {
        uint[] extremes = [0, 1, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 65535 * 3, 1u << 20];
        int width = rng.Next(2) == 0 ? 2 : 4, at = rng.Next(Math.Max(1, headerBytes - width));
        uint value = extremes[rng.Next(extremes.Length)];
        for (int k = 0; k < width; k++) bytes[at + k] = (byte)(value >> (8 * (width - 1 - k)));
        description = $"{8 * width}-bit field at {at} = {value & (width == 2 ? 0xFFFF : 0xFFFFFFFF)}";
        return bytes;
    }

    /// <summary>Decodes mutations <paramref name="first"/>..<paramref name="first"/>+<paramref name="count"/>-1 of every target.</summary>
    public static Report Run(IReadOnlyList<Target> targets, int first, int count, string scratch, Action<string>? progress = null)
    {
        var report = new Report();
        foreach (var t in targets)
            for (int i = first; i < first + count; i++)
            {
                var bytes = Mutate(t, i, out var mutation);
                var path = Path.Combine(scratch, $"input{t.Extension}");
                File.WriteAllBytes(path, bytes);
                var watch = Stopwatch.StartNew();
                var decode = Task.Run(() =>
                {
                    using var fence = FinalizerFence.Enter();   // torch work in a loop: as the verbs' loops run it
                    t.Decode(path);
                });
                try { decode.Wait(TimeLimit); } catch (AggregateException) { }   // a refusal: read below
                bool finished = decode.IsCompleted;
                double seconds = watch.Elapsed.TotalSeconds;
                report.Inputs++;
                if (seconds > report.MaxSeconds) (report.MaxSeconds, report.SlowestInput) = (seconds, $"{t.Format} #{i} ({mutation})");
                if (!finished)
                {
                    report.Failures.Add(new(t.Format, i, mutation, $"no answer within {TimeLimit.TotalSeconds} s"));
                    return report;   // the decode still runs on its thread; the next input would race it for the file
                }
                var error = decode.Exception?.InnerException;
                if (error is null) report.Accepted++;
                else if (error is AnyResException && !error.Message.Contains('\n') && error.Message.StartsWith(path))
                {
                    report.Refused++;
                    var reason = System.Text.RegularExpressions.Regex.Replace(error.Message[path.Length..], @"'[^']*'|\d+(\.\d+)?", "#");
                    report.Reasons[$"{t.Format}{reason}"] = report.Reasons.GetValueOrDefault($"{t.Format}{reason}") + 1;
                }
                else report.Failures.Add(new(t.Format, i, mutation, $"{error.GetType().Name}: {error.Message} {error.StackTrace?.Split('\n').FirstOrDefault(f => f.Contains(" AnyRes."))?.Trim()}"));
                if ((i - first + 1) % 500 == 0) progress?.Invoke($"{t.Format}: {i - first + 1}/{count}");
            }
        return report;
    }
}
