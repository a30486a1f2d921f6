using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AnyRes.Ops;

/// <summary>
/// filtered_lrelu in the reference order (spec 13.5): bias, upfirdn2d(fu, up, padding, gain up²), leaky ReLU × gain with
/// clamp, upfirdn2d(fd, down). Without autograd the channels are processed in chunks with in-place activation, so the
/// upsampled intermediate (the largest tensor of the generator) never exists for the whole batch at once.
/// </summary>
public static class FilteredLrelu
{
    /// <summary>Upper bound on the elements of one chunk's upsampled intermediate (float32: 128 MiB).</summary>
    const long ChunkElements = 32L << 20;

    public static Tensor Apply(Tensor x, Tensor? fu, Tensor? fd, Tensor? b, int up = 1, int down = 1, IReadOnlyList<int>? padding = null,
        double gain = 1.4142135623730951, double slope = 0.2, double? clamp = null, bool flipFilter = false)
    {
        if (x.dim() != 4) throw new ArgumentException($"filtered_lrelu expects [N, C, H, W], got {x.dim()} dims");
        var (px0, px1, py0, py1) = Upfirdn2d.ParsePadding(padding);
        var pad = new[] { px0, px1, py0, py1 };
        if (b is not null) x = x + b.view(1, -1, 1, 1);

        bool recording = is_grad_enabled() && (x.requires_grad || (fu?.requires_grad ?? false));
        if (recording)
        {
            var t = Upfirdn2d.Apply(x, fu, up: up, padding: pad, gain: up * up, flipFilter: flipFilter);
            t = BiasAct.Apply(t, act: "lrelu", alpha: slope, gain: gain, clamp: clamp);
            return Upfirdn2d.Apply(t, fd, down: down, flipFilter: flipFilter);
        }

        long n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        long tmpPixels = Math.Max(1, (h * up + py0 + py1) * (w * up + px0 + px1));
        long chunk = Math.Max(1, ChunkElements / tmpPixels);
        var planes = x.reshape(1, n * c, h, w);
        var parts = new List<Tensor>();
        for (long start = 0; start < n * c; start += chunk)
        {
            using var part = planes.narrow(1, start, Math.Min(chunk, n * c - start));
            // gain > 0, so gain·lrelu(t) = lrelu(gain·t): the gain rides on the up filter and the activation runs in place.
            using var t = Upfirdn2d.Apply(part, fu, up: up, padding: pad, gain: up * up * gain, flipFilter: flipFilter);
            F.leaky_relu(t, slope, inplace: true);
            if (clamp is double cl) t.clamp_(-cl, cl);
            parts.Add(Upfirdn2d.Apply(t, fd, down: down, flipFilter: flipFilter));
        }
        var y = parts.Count == 1 ? parts[0] : cat(parts, 1);
        if (parts.Count > 1) foreach (var p in parts) p.Dispose();
        return y.view(n, c, y.shape[2], y.shape[3]);
    }
}
