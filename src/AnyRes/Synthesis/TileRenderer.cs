using AnyRes.Core;
using AnyRes.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Synthesis;

public sealed record RenderOptions
{
    /// <summary>Tiles per generator forward. More tiles per pass amortise per-call overhead; memory grows with it, not with W×H.</summary>
    public int TileBatch { get; init; } = 4;
    /// <summary>Called after every forward with (tiles done, tiles in total).</summary>
    public Action<int, int>? Progress { get; init; }
    /// <summary>Refuse outputs with more pixels than this (default 2^28 ≈ 16384²): a typo in a size should fail fast, not fill a disk.</summary>
    public long MaxPixels { get; init; } = 1L << 28;
    /// <summary>Checked before every forward: a cancelled render (e.g. a closed web request) stops within one tile batch.</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>Refuses <paramref name="view"/> when it has more pixels than <see cref="MaxPixels"/> (before anything is written).</summary>
    public void CheckSize(CanvasView view)
    {
        if (view.PixelCount > MaxPixels)
            throw new AnyResException($"output {view.Width}x{view.Height} = {view.PixelCount} pixels exceeds the limit of {MaxPixels} pixels (--max-pixels)");
    }
}

/// <summary>
/// Renders a <see cref="CanvasView"/> of one latent tile by tile (spec §8.1): every tile is a p×p generator output through the
/// transform of its place on the virtual canvas, batched <see cref="RenderOptions.TileBatch"/> at a time, and each tile row goes
/// to the sink as soon as all its tiles are done, so memory holds a few tile rows whatever the output size.
/// </summary>
public static class TileRenderer
{
    /// <param name="ws">The latent's mapped ws with a leading batch dimension of 1 (the mapping ran once, outside).</param>
    public static void Render(ITileSynthesizer synthesizer, Tensor ws, CanvasView view, IRowSink sink, RenderOptions? options = null)
    {
        options ??= new RenderOptions();
        if (options.TileBatch < 1) throw new AnyResException($"tile batch must be at least 1, got {options.TileBatch}");
        options.CheckSize(view);
        if (ws.shape[0] != 1) throw new ArgumentException($"ws must hold one latent (leading dimension 1), got {ws.shape[0]}");
        int p = synthesizer.TileSize, channels = synthesizer.Channels, width = view.Width;
        var grid = new TileGrid(view.Width, view.Height, p);
        var tiles = new List<(int Row, int Column)>(grid.Count);
        for (int r = 0; r < grid.Rows; r++)
            for (int c = 0; c < grid.Columns; c++) tiles.Add((r, c));

        var strips = new float[]?[grid.Rows];          // pending tile rows (owned rows only), allocated on first use
        var remaining = Enumerable.Repeat(grid.Columns, grid.Rows).ToArray();
        int nextStrip = 0;
        using var noGrad = torch.no_grad();
        for (int start = 0; start < tiles.Count; start += options.TileBatch)
        {
            options.Cancellation.ThrowIfCancellationRequested();
            var batch = tiles.GetRange(start, Math.Min(options.TileBatch, tiles.Count - start));
            float[] images;
            using (FinalizerFence.Enter())
            using (var scope = torch.NewDisposeScope())
            {
                var transforms = PatchTransform.Stack(batch.Select(t => view.TileTransform(grid.Xs[t.Column], grid.Ys[t.Row], p)).ToList(), synthesizer.Device);
                var expanded = ws.expand(ws.shape.Select((n, i) => i == 0 ? (long)batch.Count : n).ToArray());
                var output = synthesizer.Synthesize(expanded, transforms);
                Shapes.Assert(output, batch.Count, channels, p, p);
                images = output.to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
            }
            for (int b = 0; b < batch.Count; b++)
            {
                var (r, c) = batch[b];
                var (y0, y1) = grid.OwnedY[r];
                var (x0, x1) = grid.OwnedX[c];
                var strip = strips[r] ??= new float[(long)(y1 - y0) * width * channels];
                for (int y = y0; y < y1; y++)
                    for (int x = x0; x < x1; x++)
                    {
                        long dst = ((long)(y - y0) * width + x) * channels;
                        long src = (long)b * channels * p * p + (long)(y - grid.Ys[r]) * p + (x - grid.Xs[c]);
                        for (int ch = 0; ch < channels; ch++) strip[dst + ch] = images[src + (long)ch * p * p];
                    }
                remaining[r]--;
            }
            for (; nextStrip < grid.Rows && remaining[nextStrip] == 0; nextStrip++)
            {
                var (y0, y1) = grid.OwnedY[nextStrip];
                sink.WriteRows(strips[nextStrip], y1 - y0);
                strips[nextStrip] = null;
            }
            options.Progress?.Invoke(start + batch.Count, tiles.Count);
        }
    }
}
