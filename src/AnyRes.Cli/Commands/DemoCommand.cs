using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using AnyRes.Core;
using AnyRes.Data;
using AnyRes.Synthesis;
using AnyRes.Training;
using TorchSharp;

namespace AnyRes.Cli.Commands;

/// <summary>
/// The whole method on built-in data within a time budget: a multi-scale synthetic dataset, the tiny preset's stage 1 (global)
/// and stage 2 (patches with the stage-1 teacher), a wide any-resolution render and a zoom from the stage-2 model, the stage-1
/// model upsampled for comparison, and an index.html that shows them side by side.
/// </summary>
public static class DemoCommand
{
    /// <summary>
    /// Seconds kept back from the budget for data, start-up, snapshots and rendering (measured on 2 idle cores: the 2048×1024
    /// render takes ~50 s, the zoom ~30 s, start-up and snapshots ~20 s).
    /// </summary>
    const double ReserveSeconds = 150;

    /// <summary>Default budget: with the first build (~1 min on 2 cores) the demo stays within 10 minutes.</summary>
    const double DefaultMinutes = 8.5;

    /// <summary>Zoom sequence: frames and side length (a frame is ⌈side/p⌉² tiles).</summary>
    const int ZoomFrames = 32, ZoomSide = 192;

    /// <summary>Share of the training time given to stage 1; stage 2 gets the rest.</summary>
    const double Stage1Share = 0.45;

    public static Command Create()
    {
        var outOption = new Option<string>("--out") { Description = "Output folder (data, runs, renders, index.html)", DefaultValueFactory = _ => "demo-out" };
        var minutesOption = new Option<double>("--minutes") { Description = "Total time budget in minutes (training gets what data and rendering leave)", DefaultValueFactory = _ => DefaultMinutes };
        var seedOption = new Option<int>("--seed") { Description = "Seed of the data, the training and the rendered latent", DefaultValueFactory = _ => 0 };
        var imagesOption = new Option<int>("--images") { Description = "Number of synthetic training images (native sizes 128–768 px)", DefaultValueFactory = _ => 48 };
        var widthOption = new Option<int>("--width") { Description = "Width of the any-resolution render", DefaultValueFactory = _ => 2048 };
        var heightOption = new Option<int>("--height") { Description = "Height of the any-resolution render", DefaultValueFactory = _ => 1024 };
        var command = new Command("demo", "Run the whole method on built-in synthetic data in a few minutes on a CPU: stage 1, stage 2, a 2048x1024 render, a zoom, and index.html comparing them with the stage-1 model upsampled.")
        {
            outOption, minutesOption, seedOption, imagesOption, widthOption, heightOption,
        };
        command.SetAction(CliCommon.Action(result =>
        {
            var device = CliCommon.Device(result);
            var settings = new DemoSettings(Path.GetFullPath(result.GetValue(outOption)!), result.GetValue(minutesOption), result.GetValue(seedOption),
                result.GetValue(imagesOption), result.GetValue(widthOption), result.GetValue(heightOption));
            settings.Validate();
            return Run(settings, device);
        }));
        return command;
    }

    sealed record DemoSettings(string Out, double Minutes, int Seed, int Images, int Width, int Height)
    {
        public void Validate()
        {
            if (!(Minutes >= 3)) throw new AnyResException($"--minutes {Minutes}: the demo needs at least 3 minutes");
            if (Images < 4) throw new AnyResException($"--images {Images}: need at least 4 images");
            if (Width < 64 || Height < 64 || (long)Width * Height > 64L << 20) throw new AnyResException($"--width/--height {Width}x{Height}: expected 64..8192 px per side and at most 64 MP");
        }
    }

    static int Run(DemoSettings s, torch.Device device)
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(s.Out);
        void Say(string text) => Console.WriteLine($"[demo {clock.Elapsed:mm\\:ss}] {text}");

        // 1. Data: one folder of images at their native sizes; stage 1 reads it resized to p, stage 2 cuts patches from it.
        var data = Path.Combine(s.Out, "data");
        if (!Directory.Exists(data) || Directory.GetFiles(data, "*.png").Length != s.Images)
        {
            Say($"writing {s.Images} synthetic images (native sizes 128–768 px) to {data}");
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
            SynthImages.WriteSet(data, s.Images, 128, 768, (ulong)s.Seed);
        }
        else Say($"reusing the synthetic images in {data}");

        double trainingSeconds = Math.Max(60, s.Minutes * 60 - ReserveSeconds - clock.Elapsed.TotalSeconds);
        var runs = Path.Combine(s.Out, "runs");

        // 2. Stage 1 (global) then stage 2 (patches, teacher = stage 1), each stopped by its share of the budget.
        var stage1 = Train(TrainingOptions.Preset("tiny", TrainStage.Global) with { Data = data, Outdir = runs, Seed = s.Seed, Kimg = 100_000 },
            trainingSeconds * Stage1Share, device, "stage 1 (global)", Say);
        var stage2 = Train(TrainingOptions.Preset("tiny", TrainStage.Patch) with
        {
            Data = data, DataHr = data, Teacher = stage1, Outdir = runs, Seed = s.Seed, Kimg = 100_000,
            ScaleMax = 64.0 / 128, ScaleMappingMin = 1, ScaleMappingMax = 768 / 64,
        }, Math.Max(30, s.Minutes * 60 - ReserveSeconds - clock.Elapsed.TotalSeconds), device, "stage 2 (patches)", Say);

        // 3. Renders from the stage-2 model, and the stage-1 model upsampled to the same frame for comparison.
        var wide = Path.Combine(s.Out, $"stage2-{s.Width}x{s.Height}.png");
        var zoom = Path.Combine(s.Out, "stage2-zoom.gif");
        var upsampled = Path.Combine(s.Out, $"stage1-upsampled-{s.Width}x{s.Height}.png");
        var stage1Native = Path.Combine(s.Out, "stage1-native.png");
        int p;
        var render = new RenderOptions { TileBatch = 16 };
        using (var scope = torch.NewDisposeScope())
        {
            var student = GeneratorTiles.Load(stage2, device);
            p = student.TileSize;
            var ws = student.Map((uint)s.Seed);
            Say($"rendering {s.Width}x{s.Height} from the stage-2 model ({Math.Ceiling(s.Width / (double)p) * Math.Ceiling(s.Height / (double)p)} tiles of {p}x{p})");
            int lastDecile = -1;
            Rendering.RenderPng(student, ws, CanvasView.FullFrame(s.Width, s.Height), wide, render with
            {
                Progress = (done, total) => { if (done * 10 / total is var d && d > lastDecile) { lastDecile = d; Say($"  tile {done}/{total}"); } },
            });
            Say($"rendering a {ZoomFrames}-frame zoom 1x..16x from the stage-2 model");
            Rendering.RenderZoom(student, ws, new ZoomPath(ZoomSide, ZoomSide, 1, 16, ZoomFrames), zoom, framesPerSecond: 8, options: render,
                frameDone: (done, total) => { if (done % 8 == 0 || done == total) Say($"  zoom frame {done}/{total}"); });

            var teacher = GeneratorTiles.Load(stage1, device);
            var teacherWs = teacher.Map((uint)s.Seed);
            // The stage-1 model only knows its own p×p frame: render that frame's crop at p, then Lanczos it up to the output size.
            int cropHeight = (int)Math.Round(p * (double)s.Height / Math.Max(s.Width, s.Height)), cropWidth = (int)Math.Round(p * (double)s.Width / Math.Max(s.Width, s.Height));
            var small = Rendering.RenderImage(teacher, teacherWs, CanvasView.FullFrame(cropWidth, cropHeight), render);
            var smallRgb = new RgbImage(small.Width, small.Height, small.ToRgbBytes());
            AtomicFile.WriteAllBytes(upsampled, SynthImages.EncodePng(Lanczos.Resize(smallRgb, s.Width, s.Height)));
            var nativeFrame = Rendering.RenderImage(teacher, teacherWs, CanvasView.FullFrame(p, p));
            AtomicFile.WriteAllBytes(stage1Native, SynthImages.EncodePng(new RgbImage(p, p, nativeFrame.ToRgbBytes())));
        }

        // 4. The page.
        var index = Path.Combine(s.Out, "index.html");
        AtomicFile.WriteAllText(index, DemoPage.Html(s.Width, s.Height, p, clock.Elapsed, stage1, stage2, s.Out));
        Say($"done in {clock.Elapsed:mm\\:ss}");
        Console.WriteLine();
        Console.WriteLine($"  page          {index}");
        Console.WriteLine($"  stage 2 render {wide}");
        Console.WriteLine($"  stage 2 zoom   {zoom}");
        Console.WriteLine($"  stage 1 ×up    {upsampled}");
        Console.WriteLine($"  stage 1 run    {Path.GetDirectoryName(stage1)}");
        Console.WriteLine($"  stage 2 run    {Path.GetDirectoryName(stage2)}");
        Console.WriteLine();
        Console.WriteLine("Pan and zoom the stage-2 model in a browser (side by side: the stage-1 model upsampled), then open http://127.0.0.1:8080/ :");
        Console.WriteLine($"  ./anyres serve --network {Quote(stage2)} --network {Quote(stage1)}");
        return 0;
    }

    /// <summary>A path as one shell word (single quotes when it holds anything but safe characters).</summary>
    static string Quote(string path) => path.All(c => char.IsAsciiLetterOrDigit(c) || "/._-+:".Contains(c)) ? path : $"'{path.Replace("'", "'\\''")}'";

    /// <summary>Trains one stage for <paramref name="seconds"/> (Ctrl-C also stops it cleanly) and returns its last network snapshot.</summary>
    static string Train(TrainingOptions options, double seconds, torch.Device device, string label, Action<string> say)
    {
        say($"{label}: training for {seconds / 60:0.0} min");
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        void OnCancel(object? sender, ConsoleCancelEventArgs e) { e.Cancel = true; stop.Cancel(); }
        Console.CancelKeyPress += OnCancel;
        try
        {
            using var run = TrainingRun.Start(options, device, line => say($"  {line}"));
            run.Run(stop.Token);
            var snapshot = Directory.GetFiles(run.RunDir, "network-snapshot-*.safetensors").OrderBy(f => f, StringComparer.Ordinal).LastOrDefault()
                ?? throw new AnyResException($"{run.RunDir}: the {label} run wrote no network snapshot");
            say($"{label}: snapshot {snapshot}");
            return snapshot;
        }
        finally { Console.CancelKeyPress -= OnCancel; }
    }
}

/// <summary>The demo's index.html: the stage-2 render, the stage-1 model upsampled to the same frame, the zoom and the runs.</summary>
static class DemoPage
{
    public static string Html(int width, int height, int p, TimeSpan elapsed, string stage1, string stage2, string root)
    {
        string Rel(string path) => System.Net.WebUtility.HtmlEncode(Path.GetRelativePath(root, path));
        string Grid(string snapshot) => Directory.GetFiles(Path.GetDirectoryName(snapshot)!, "fakes*.png").OrderBy(f => f, StringComparer.Ordinal).LastOrDefault() is { } g
            ? $"<img src=\"{Rel(g)}\" alt=\"samples\">" : "<p>(no sample grid)</p>";
        return string.Create(CultureInfo.InvariantCulture, $$"""
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AnyRes demo</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; background: #111; color: #ddd; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
img { width: 100%; image-rendering: auto; border: 1px solid #333; }
.crop { height: 420px; overflow: auto; border: 1px solid #333; }
.crop img { width: auto; max-width: none; }
code { color: #9cf; }
</style></head><body>
<h1>AnyRes demo</h1>
<p>Built-in synthetic photos at native sizes 128–768 px; tiny preset (p = {{p}}), stage 1 then stage 2, trained and rendered on this machine in {{elapsed:mm\:ss}}.
Left: the stage-2 model rendered directly at {{width}}×{{height}} (tiles of {{p}}×{{p}} at zoom {{(double)Math.Max(width, height) / p:0.#}}).
Right: the stage-1 model's {{p}}-pixel image Lanczos-upsampled to the same frame — what you get without any-resolution training.</p>
<div class="pair">
<figure><img src="{{Rel(Path.Combine(root, $"stage2-{width}x{height}.png"))}}"><figcaption>stage 2, rendered at {{width}}×{{height}}</figcaption></figure>
<figure><img src="{{Rel(Path.Combine(root, $"stage1-upsampled-{width}x{height}.png"))}}"><figcaption>stage 1, {{p}} px upsampled</figcaption></figure>
</div>
<h2>Full resolution (scroll)</h2>
<div class="pair">
<div class="crop"><img src="{{Rel(Path.Combine(root, $"stage2-{width}x{height}.png"))}}"></div>
<div class="crop"><img src="{{Rel(Path.Combine(root, $"stage1-upsampled-{width}x{height}.png"))}}"></div>
</div>
<h2>Zoom 1×–16×, rendered from the stage-2 model at every frame</h2>
<p><img src="stage2-zoom.gif" style="width:384px"></p>
<h2>Training samples</h2>
<div class="pair">
<figure>{{Grid(stage1)}}<figcaption>stage 1: <code>{{Rel(stage1)}}</code></figcaption></figure>
<figure>{{Grid(stage2)}}<figcaption>stage 2 (last row: patches at zoom 1, 2, 4, 8): <code>{{Rel(stage2)}}</code></figcaption></figure>
</div>
</body></html>
""");
    }
}
