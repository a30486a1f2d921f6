using AnyRes.Core;
using TorchSharp;

namespace AnyRes.Synthesis;

/// <summary>A continuous zoom: frame i is rendered at zoom From·(To/From)^(i/(Frames−1)) — equal ratios per frame, so the
/// motion looks steady — towards the point (CenterX, CenterY) of the frame (fractions), see <see cref="CanvasView.Zoom"/>.</summary>
public sealed record ZoomPath(int Width, int Height, double From, double To, int Frames, double CenterX = 0.5, double CenterY = 0.5)
{
    public double ZoomAt(int frame)
    {
        if (!(From > 0) || !(To > 0)) throw new AnyResException($"zoom factors must be positive, got {From} and {To}");
        if (Frames < 1) throw new AnyResException($"need at least one frame, got {Frames}");
        return Frames == 1 ? From : From * Math.Pow(To / From, frame / (double)(Frames - 1));
    }

    public CanvasView View(int frame) => CanvasView.Zoom(Width, Height, ZoomAt(frame), CenterX, CenterY);
}

/// <summary>Files from the renderer: one image as a streamed PNG, a zoom as an animated GIF or a folder of PNG frames.</summary>
public static class Rendering
{
    /// <summary>Renders <paramref name="view"/> of the latent <paramref name="ws"/> ([1, …]) straight into a PNG, atomically.</summary>
    public static void RenderPng(ITileSynthesizer synthesizer, torch.Tensor ws, CanvasView view, string path, RenderOptions? options = null)
    {
        options ??= new RenderOptions();
        options.CheckSize(view);   // before creating the file
        AtomicFile.Write(path, stream =>
        {
            using var png = new PngWriter(stream, view.Width, view.Height, synthesizer.Channels);
            TileRenderer.Render(synthesizer, ws, view, new PngRowSink(png), options);
            png.Finish();
        });
    }

    /// <summary>Renders one frame into memory.</summary>
    public static ImageBuffer RenderImage(ITileSynthesizer synthesizer, torch.Tensor ws, CanvasView view, RenderOptions? options = null)
    {
        var image = new ImageBuffer(view.Width, view.Height, synthesizer.Channels);
        TileRenderer.Render(synthesizer, ws, view, image, options);
        return image;
    }

    /// <summary>
    /// Renders every frame of <paramref name="zoom"/> from the model (no resampling between frames). A path ending in .gif gets an
    /// animated GIF at <paramref name="framesPerSecond"/>; anything else is a folder of frame0000.png, frame0001.png, …
    /// <paramref name="frameDone"/> is called with (frames done, frames in total).
    /// </summary>
    public static void RenderZoom(ITileSynthesizer synthesizer, torch.Tensor ws, ZoomPath zoom, string output, double framesPerSecond = 25,
                                  RenderOptions? options = null, Action<int, int>? frameDone = null)
    {
        options ??= new RenderOptions();
        if (!(framesPerSecond > 0)) throw new AnyResException($"frames per second must be positive, got {framesPerSecond}");
        options.CheckSize(zoom.View(0));   // every frame has the same size; View(0) also checks the frame count
        if (output.EndsWith(".gif", StringComparison.OrdinalIgnoreCase))
        {
            int delay = (int)Math.Round(100 / framesPerSecond);
            AtomicFile.Write(output, stream =>
            {
                var gif = new GifWriter(stream, zoom.Width, zoom.Height);
                for (int i = 0; i < zoom.Frames; i++)
                {
                    gif.AddFrame(RenderImage(synthesizer, ws, zoom.View(i), options).ToRgbBytes(), delay);
                    frameDone?.Invoke(i + 1, zoom.Frames);
                }
                gif.Finish();
            });
            return;
        }
        AtomicFile.CreateFolder(output);
        for (int i = 0; i < zoom.Frames; i++)
        {
            RenderPng(synthesizer, ws, zoom.View(i), Path.Combine(output, $"frame{i:D4}.png"), options);
            frameDone?.Invoke(i + 1, zoom.Frames);
        }
    }
}
