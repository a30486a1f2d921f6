using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using AnyRes.Core;
using AnyRes.Data;
using AnyRes.Networks;
using AnyRes.Synthesis;
using AnyRes.Training;
using TorchSharp;

namespace AnyRes.Cli.Commands;

/// <summary>
/// What the method does, on a CPU in minutes: first renders from the bundled model (<c>models/deep-sky</c>, trained with
/// <c>anyres reproduce</c>); then the whole method on built-in data within a time budget — a multi-scale synthetic dataset,
/// the tiny preset's stage 1 (global) and stage 2 (patches with the stage-1 teacher). For both: a wide any-resolution render
/// and a zoom from the stage-2 model, the stage-1 model upsampled for comparison, and an index.html that shows them side by side.
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

    /// <summary>The bundled model rendered first; its stage-1 model is bundled as NAME-stage1.</summary>
    const string DefaultBundled = "deep-sky", Stage1Suffix = "-stage1";

    public static Command Create()
    {
        var outOption = new Option<string>("--out") { Description = "Output folder (data, runs, renders, index.html): new, empty or an earlier demo's", DefaultValueFactory = _ => "demo-out" };
        var minutesOption = new Option<double>("--minutes") { Description = "Time budget in minutes of the training on built-in data and its renders (the bundled model's renders come first, on top)", DefaultValueFactory = _ => DefaultMinutes };
        var seedOption = new Option<int>("--seed") { Description = "Seed of the data, the training and the rendered latent", DefaultValueFactory = _ => 0 };
        var imagesOption = new Option<int>("--images") { Description = "Number of synthetic training images (native sizes 128–768 px)", DefaultValueFactory = _ => 48 };
        var widthOption = new Option<int>("--width") { Description = "Width of the any-resolution render", DefaultValueFactory = _ => 2048 };
        var heightOption = new Option<int>("--height") { Description = "Height of the any-resolution render", DefaultValueFactory = _ => 1024 };
        var bundledOption = new Option<string>("--bundled") { Description = $"Bundled model to render first (models/NAME.safetensors with NAME{Stage1Suffix}.safetensors), or none", DefaultValueFactory = _ => DefaultBundled };
        var command = new Command("demo", "Render the bundled deep-sky model, then run the whole method on built-in synthetic data in a few minutes on a CPU: stage 1, stage 2, "
            + "a 2048x1024 render, a zoom, and index.html comparing each stage-2 model with its stage-1 model upsampled.")
        {
            outOption, minutesOption, seedOption, imagesOption, widthOption, heightOption, bundledOption,
        };
        command.SetAction(CliCommon.Action(result =>
        {
            var device = CliCommon.Device(result);
            var settings = new DemoSettings(Path.GetFullPath(result.GetValue(outOption)!), result.GetValue(minutesOption), result.GetValue(seedOption),
                result.GetValue(imagesOption), result.GetValue(widthOption), result.GetValue(heightOption), result.GetValue(bundledOption)!);
            settings.Validate();
            return Run(settings, device);
        }));
        return command;
    }

    /// <summary>Marks an --out folder as the demo's own, so a later demo may replace what it wrote there.</summary>
    const string MarkerFile = ".anyres-demo";

    sealed record DemoSettings(string Out, double Minutes, int Seed, int Images, int Width, int Height, string Bundled)
    {
        public bool RendersBundled => Bundled != "none";

        public void Validate()
        {
            if (!(Minutes >= 3)) throw new AnyResException($"--minutes {Minutes}: the demo needs at least 3 minutes");
            if (Images < 4) throw new AnyResException($"--images {Images}: need at least 4 images");
            if (Width < 64 || Height < 64 || (long)Width * Height > 64L << 20) throw new AnyResException($"--width/--height {Width}x{Height}: expected 64..8192 px per side and at most 64 MP");
            if (!RendersBundled) return;
            var names = BundledModels.Names();
            foreach (var name in new[] { Bundled, Bundled + Stage1Suffix })
                if (!names.Contains(name))
                    throw new AnyResException($"--bundled {Bundled}: no bundled model {name} (bundled: {string.Join(", ", names.DefaultIfEmpty("none"))}; --bundled none skips it)");
            if (!File.Exists(Card)) throw AnyResException.ForFile(Card, $"the model card of --bundled {Bundled} is missing");
        }

        /// <summary>The bundled model's card, shipped next to it.</summary>
        public string Card => Path.Combine(BundledModels.Folder, Bundled + ".md");
    }

    static int Run(DemoSettings s, torch.Device device)
    {
        var clock = Stopwatch.StartNew();
        void Say(string text) => Console.WriteLine($"[demo {clock.Elapsed:mm\\:ss}] {text}");
        // The demo replaces its own renders and data in --out; anything else there (photos, another run) is never touched.
        var marker = Path.Combine(s.Out, MarkerFile);
        if (File.Exists(marker)) Say($"{s.Out} holds an earlier demo: its data is reused, its renders and index.html are replaced");
        else if (Directory.Exists(s.Out) && Directory.EnumerateFileSystemEntries(s.Out).Any())
            throw AnyResException.ForFile(s.Out, "is not empty and holds no earlier demo: give a new or empty --out");
        AtomicFile.CreateFolder(s.Out);
        AtomicFile.WriteAllText(marker, "written by anyres demo: this folder's renders, data and index.html are replaced when the demo runs here again\n");
        var sections = new List<DemoSection>();

        // 0. The bundled model: what hours of training on real native-size photos give, rendered in about a minute.
        var budgetStart = TimeSpan.Zero;
        if (s.RendersBundled)
        {
            Say($"rendering the bundled model {s.Bundled} (models/{s.Bundled}.md)");
            var folder = Path.Combine(s.Out, s.Bundled);
            var stage2 = BundledModels.Resolve(s.Bundled);
            var stage1 = BundledModels.Resolve(s.Bundled + Stage1Suffix);
            int bundledP = Showcase(stage2, stage1, folder, s, device, Say);
            AtomicFile.WriteAllText(Path.Combine(folder, "model-card.md"), File.ReadAllText(s.Card));
            sections.Add(new DemoSection($"The bundled model: {s.Bundled}", folder, bundledP, s.Width, s.Height,
                $"Trained on this kind of machine with <code>anyres reproduce</code> on real photos at their native sizes; data, licence, command, wall time and metrics: "
                + $"<a href=\"{s.Bundled}/model-card.md\">its model card</a>. Rendered here in {clock.Elapsed:mm\\:ss}.", null, null));
            budgetStart = clock.Elapsed;
        }

        // 1. Data: one folder of images at their native sizes; stage 1 reads it resized to p, stage 2 cuts patches from it.
        var data = Path.Combine(s.Out, "data");
        if (!Directory.Exists(data) || Directory.GetFiles(data, "*.png").Length != s.Images)
        {
            Say($"writing {s.Images} synthetic images (native sizes 128–768 px) to {data}");
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
            SynthImages.WriteSet(data, s.Images, 128, 768, (ulong)s.Seed);
        }
        else Say($"reusing the synthetic images in {data}");

        double SecondsLeft() => s.Minutes * 60 - ReserveSeconds - (clock.Elapsed - budgetStart).TotalSeconds;
        var runs = Path.Combine(s.Out, "runs");

        // 2. Stage 1 (global) then stage 2 (patches, teacher = stage 1), each stopped by its share of the budget.
        var trainingStart = clock.Elapsed;
        var trained1 = Train(TrainingOptions.Preset("tiny", TrainingMode.Global) with { Data = data, Outdir = runs, Seed = s.Seed, Kimg = 100_000 },
            Math.Max(60, SecondsLeft()) * Stage1Share, device, "stage 1 (global)", Say);
        var trained2 = Train(TrainingOptions.Preset("tiny", TrainingMode.Patch) with
        {
            Data = data, DataHr = data, Teacher = trained1, Outdir = runs, Seed = s.Seed, Kimg = 100_000,
            ScaleMax = 64.0 / 128, ScaleMappingMin = 1, ScaleMappingMax = 768 / 64,
        }, Math.Max(30, SecondsLeft()), device, "stage 2 (patches)", Say);

        // 3. Renders from the stage-2 model, and the stage-1 model upsampled to the same frame for comparison.
        int p = Showcase(trained2, trained1, s.Out, s, device, Say);
        sections.Add(new DemoSection("Trained here, on built-in data", s.Out, p, s.Width, s.Height,
            $"Built-in synthetic photos at native sizes 128–768 px; tiny preset (p = {p}), stage 1 then stage 2, trained and rendered on this machine in {clock.Elapsed - trainingStart:mm\\:ss}.",
            trained1, trained2));

        // 4. The page.
        var index = Path.Combine(s.Out, "index.html");
        AtomicFile.WriteAllText(index, DemoPage.Html(sections, s.Out));
        Say($"done in {clock.Elapsed:mm\\:ss}");
        Console.WriteLine();
        Console.WriteLine($"  page           {index}");
        if (s.RendersBundled) Console.WriteLine($"  {s.Bundled,-14} {Path.Combine(s.Out, s.Bundled)}");
        Console.WriteLine($"  stage 2 render {Path.Combine(s.Out, WideName(s))}");
        Console.WriteLine($"  stage 2 zoom   {Path.Combine(s.Out, ZoomName)}");
        Console.WriteLine($"  stage 1 ×up    {Path.Combine(s.Out, UpsampledName(s))}");
        Console.WriteLine($"  stage 1 run    {Path.GetDirectoryName(trained1)}");
        Console.WriteLine($"  stage 2 run    {Path.GetDirectoryName(trained2)}");
        Console.WriteLine();
        Console.WriteLine("Pan and zoom the stage-2 models in a browser (side by side: the stage-1 model upsampled), then open http://127.0.0.1:8080/ :");
        Console.WriteLine($"  ./anyres serve --network {(s.RendersBundled ? s.Bundled + " --network " : "")}{Quote(trained2)} --network {Quote(trained1)}");
        return 0;
    }

    internal const string ZoomName = "stage2-zoom.gif", NativeName = "stage1-native.png";
    internal static string WideName(int width, int height) => $"stage2-{width}x{height}.png";
    internal static string UpsampledName(int width, int height) => $"stage1-upsampled-{width}x{height}.png";
    static string WideName(DemoSettings s) => WideName(s.Width, s.Height);
    static string UpsampledName(DemoSettings s) => UpsampledName(s.Width, s.Height);

    /// <summary>
    /// Into <paramref name="folder"/>: the stage-2 model rendered at the demo's width×height, its zoom sequence, the stage-1
    /// model's frame Lanczos-upsampled to the same size, and the stage-1 frame at p. Returns p.
    /// </summary>
    static int Showcase(string stage2, string stage1, string folder, DemoSettings s, torch.Device device, Action<string> say)
    {
        Directory.CreateDirectory(folder);
        var render = new RenderOptions { TileBatch = 16 };
        using var scope = torch.NewDisposeScope();
        var student = GeneratorTiles.Load(stage2, device);
        int p = student.TileSize;
        var ws = student.Map((uint)s.Seed);
        say($"rendering {s.Width}x{s.Height} from the stage-2 model ({Math.Ceiling(s.Width / (double)p) * Math.Ceiling(s.Height / (double)p)} tiles of {p}x{p})");
        int lastDecile = -1;
        Rendering.RenderPng(student, ws, CanvasView.FullFrame(s.Width, s.Height), Path.Combine(folder, WideName(s)), render with
        {
            Progress = (done, total) => { if (done * 10 / total is var d && d > lastDecile) { lastDecile = d; say($"  tile {done}/{total}"); } },
        });
        say($"rendering a {ZoomFrames}-frame zoom 1x..16x from the stage-2 model");
        Rendering.RenderZoom(student, ws, new ZoomPath(ZoomSide, ZoomSide, 1, 16, ZoomFrames), Path.Combine(folder, ZoomName), framesPerSecond: 8, options: render,
            frameDone: (done, total) => { if (done % 8 == 0 || done == total) say($"  zoom frame {done}/{total}"); });

        var teacher = GeneratorTiles.Load(stage1, device);
        var teacherWs = teacher.Map((uint)s.Seed);
        // The stage-1 model only knows its own p×p frame: render that frame's crop at p, then Lanczos it up to the output size.
        int cropHeight = (int)Math.Round(p * (double)s.Height / Math.Max(s.Width, s.Height)), cropWidth = (int)Math.Round(p * (double)s.Width / Math.Max(s.Width, s.Height));
        var small = Rendering.RenderImage(teacher, teacherWs, CanvasView.FullFrame(cropWidth, cropHeight), render);
        var smallRgb = new RgbImage(small.Width, small.Height, small.ToRgbBytes());
        AtomicFile.WriteAllBytes(Path.Combine(folder, UpsampledName(s)), SynthImages.EncodePng(Lanczos.Resize(smallRgb, s.Width, s.Height)));
        var nativeFrame = Rendering.RenderImage(teacher, teacherWs, CanvasView.FullFrame(p, p));
        AtomicFile.WriteAllBytes(Path.Combine(folder, NativeName), SynthImages.EncodePng(new RgbImage(p, p, nativeFrame.ToRgbBytes())));
        return p;
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

/// <summary>One section of the demo page: the renders in <see cref="Folder"/>, and the training runs' sample grids when trained here.</summary>
sealed record DemoSection(string Title, string Folder, int P, int Width, int Height, string IntroHtml, string? Stage1, string? Stage2);

/// <summary>The demo's index.html: per section the stage-2 render, the stage-1 model upsampled to the same frame, the zoom and the runs.</summary>
static class DemoPage
{
    public static string Html(IReadOnlyList<DemoSection> sections, string root)
    {
        string Rel(string path) => System.Net.WebUtility.HtmlEncode(Path.GetRelativePath(root, path));
        string Grid(string snapshot) => Directory.GetFiles(Path.GetDirectoryName(snapshot)!, "fakes*.png").OrderBy(f => f, StringComparer.Ordinal).LastOrDefault() is { } g
            ? $"<img src=\"{Rel(g)}\" alt=\"samples\">" : "<p>(no sample grid)</p>";
        string Section(DemoSection x)
        {
            var wide = Rel(Path.Combine(x.Folder, DemoCommand.WideName(x.Width, x.Height)));
            var up = Rel(Path.Combine(x.Folder, DemoCommand.UpsampledName(x.Width, x.Height)));
            var runs = x.Stage1 is { } s1 && x.Stage2 is { } s2 ? $$"""
<h3>Training samples</h3>
<div class="pair">
<figure>{{Grid(s1)}}<figcaption>stage 1: <code>{{Rel(s1)}}</code></figcaption></figure>
<figure>{{Grid(s2)}}<figcaption>stage 2 (last row: patches at zoom 1, 2, 4, 8): <code>{{Rel(s2)}}</code></figcaption></figure>
</div>
""" : "";
            return string.Create(CultureInfo.InvariantCulture, $$"""
<h2>{{System.Net.WebUtility.HtmlEncode(x.Title)}}</h2>
<p>{{x.IntroHtml}}
Left: the stage-2 model rendered directly at {{x.Width}}×{{x.Height}} (tiles of {{x.P}}×{{x.P}} at zoom {{(double)Math.Max(x.Width, x.Height) / x.P:0.#}}).
Right: the stage-1 model's {{x.P}}-pixel image Lanczos-upsampled to the same frame — what you get without any-resolution training.</p>
<div class="pair">
<figure><img src="{{wide}}"><figcaption>stage 2, rendered at {{x.Width}}×{{x.Height}}</figcaption></figure>
<figure><img src="{{up}}"><figcaption>stage 1, {{x.P}} px upsampled</figcaption></figure>
</div>
<h3>Full resolution (scroll)</h3>
<div class="pair">
<div class="crop"><img src="{{wide}}"></div>
<div class="crop"><img src="{{up}}"></div>
</div>
<h3>Zoom 1×–16×, rendered from the stage-2 model at every frame</h3>
<p><img src="{{Rel(Path.Combine(x.Folder, DemoCommand.ZoomName))}}" style="width:384px"></p>
{{runs}}
""");
        }
        return $$"""
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AnyRes demo</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; background: #111; color: #ddd; }
a { color: #9cf; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
img { width: 100%; image-rendering: auto; border: 1px solid #333; }
.crop { height: 420px; overflow: auto; border: 1px solid #333; }
.crop img { width: auto; max-width: none; }
code { color: #9cf; }
</style></head><body>
<h1>AnyRes demo</h1>
{{string.Concat(sections.Select(Section))}}
</body></html>
""";
    }
}
