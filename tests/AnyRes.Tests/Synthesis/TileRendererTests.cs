using AnyRes.Core;
using AnyRes.Data;
using AnyRes.Synthesis;
using static TorchSharp.torch;

namespace AnyRes.Tests.Synthesis;

public class TileRendererTests
{
    static readonly double[] Phases = { 0.3, -1.1, 2.0 };

    static ImageBuffer Render(CanvasView view, int p = 64, int tileBatch = 3, FieldSynthesizer? synth = null) =>
        Rendering.RenderImage(synth ?? new FieldSynthesizer(p), FieldSynthesizer.Latent(Phases), view, new RenderOptions { TileBatch = tileBatch });

    /// <summary>Every output pixel must show the field at the centre of its canvas pixel: (origin + i + 0.5)/N − 0.5.</summary>
    static void AssertOnLattice(ImageBuffer image, CanvasView view, double tolerance = 2e-6)
    {
        double worst = 0;
        for (int y = 0; y < view.Height; y++)
            for (int x = 0; x < view.Width; x++)
                for (int c = 0; c < 3; c++)
                {
                    double qx = (view.OriginX + x + 0.5) / view.VirtualSize - 0.5, qy = (view.OriginY + y + 0.5) / view.VirtualSize - 0.5;
                    worst = Math.Max(worst, Math.Abs(image[y, x, c] - FieldSynthesizer.Field(c, qx, qy, Phases[c])));
                }
        Assert.True(worst < tolerance, $"max deviation from the analytic field {worst}");
    }

    [Theory]
    [InlineData(600, 600, 64)]     // last row and column overlap their neighbours
    [InlineData(300, 130, 64)]     // non-square
    [InlineData(700, 40, 64)]      // thinner than a tile
    [InlineData(64, 64, 64)]
    public void EveryPixelIsTheFieldAtItsCanvasPixelCentre(int width, int height, int p)
    {
        var view = CanvasView.FullFrame(width, height);
        AssertOnLattice(Render(view, p), view);
    }

    [Fact]
    public void RegionsAndZoomFramesWithFractionalCanvasesStayOnTheirLattice()
    {
        var region = CanvasView.Region(150, 100, 0.1, 0.2, 0.4, 0.4);
        AssertOnLattice(Render(region), region);
        var zoom = new ZoomPath(96, 80, 1, 16, 5, 0.3, 0.7).View(3);
        AssertOnLattice(Render(zoom), zoom);
    }

    [Fact]
    public void CanvasOfOneTileIsExactlyTheSingleForward()
    {
        var synth = new FieldSynthesizer(64);
        var image = Render(CanvasView.FullFrame(64, 64), synth: synth);
        Assert.Equal(1, synth.Calls);
        var single = synth.Synthesize(FieldSynthesizer.Latent(Phases), PatchTransform.Stack(new[] { PatchTransform.Identity }));
        var expected = single[0].permute(1, 2, 0).contiguous().data<float>().ToArray();
        Assert.Equal(expected, image.Pixels);
    }

    [Fact]
    public void OverlappingTilesAgree()
    {
        // Canvas 100 with p = 64: tiles at 0 and 36 share 28 columns and rows.
        var synth = new FieldSynthesizer(64);
        var view = CanvasView.FullFrame(100, 100);
        var tiles = synth.Synthesize(FieldSynthesizer.Latent(Phases).expand(2, -1),
            PatchTransform.Stack(new[] { view.TileTransform(0, 0, 64), view.TileTransform(36, 36, 64) }));
        var overlapA = tiles[0, .., 36.., 36..];
        var overlapB = tiles[1, .., ..28, ..28];
        Assert.True((overlapA - overlapB).abs().max().item<float>() < 2e-6);
    }

    [Fact]
    public void NonSquareOutputIsTheMatchingCropOfTheSquareRender()
    {
        var square = Render(CanvasView.FullFrame(300, 300));
        var wide = CanvasView.FullFrame(300, 170);   // origin row 65: rows 65..234 of the square
        Assert.Equal(65, wide.OriginY);
        AssertCrop(square, Render(wide), 0, 65);
        var tall = CanvasView.FullFrame(99, 300);    // origin column 100
        AssertCrop(square, Render(tall), 100, 0);
    }

    [Fact]
    public void RegionRenderIsTheSamePixelsOfTheFullRenderAtThatCanvasSize()
    {
        var full = Render(CanvasView.FullFrame(512, 512));
        var region = CanvasView.Region(200, 150, 100 / 512.0, 64 / 512.0, 300 / 512.0, 214 / 512.0);
        Assert.Equal(512, region.VirtualSize, 9);
        AssertCrop(full, Render(region), 100, 64);
    }

    static void AssertCrop(ImageBuffer big, ImageBuffer crop, int x0, int y0)
    {
        double worst = 0;
        for (int y = 0; y < crop.Height; y++)
            for (int x = 0; x < crop.Width; x++)
                for (int c = 0; c < 3; c++) worst = Math.Max(worst, Math.Abs(crop[y, x, c] - big[y + y0, x + x0, c]));
        Assert.True(worst < 2e-6, $"crop differs by {worst}");
    }

    [Fact]
    public void TileBatchDoesNotChangeTheImage()
    {
        var view = CanvasView.FullFrame(200, 140);
        var one = Render(view, tileBatch: 1);
        var synth = new FieldSynthesizer(64);
        var seven = Render(view, tileBatch: 7, synth: synth);
        Assert.Equal(2, synth.Calls);   // 4×3 tiles in batches of 7
        Assert.Equal(one.Pixels, seven.Pixels);
    }

    [Fact]
    public void RowsStreamOutAsSoonAsATileRowIsDone()
    {
        var view = CanvasView.FullFrame(300, 300);   // 5×5 tiles of 64, 25 tiles
        var sink = new RecordingSink(300 * 3);
        int done = 0;
        TileRenderer.Render(new FieldSynthesizer(64), FieldSynthesizer.Latent(Phases), view, sink,
            new RenderOptions { TileBatch = 5, Progress = (d, _) => done = d });
        // A tile row is complete after each forward of 5 tiles; its rows arrive before the next forward.
        Assert.Equal(new[] { (64, 0), (64, 5), (64, 10), (64, 15), (44, 20) }, sink.Calls.Select(c => (c.Rows, c.TilesDoneBefore)).ToArray());
        Assert.Equal(25, done);
    }

    sealed class RecordingSink(int stride) : IRowSink
    {
        public List<(int Rows, int TilesDoneBefore)> Calls { get; } = new();
        public void WriteRows(ReadOnlySpan<float> pixels, int rowCount)
        {
            Assert.True(pixels.Length >= rowCount * stride);
            Calls.Add((rowCount, Calls.Count * 5));
        }
    }

    [Fact]
    public void MaxPixelsRefusesBeforeWritingAnything()
    {
        var dir = Directory.CreateTempSubdirectory("anyres-synth").FullName;
        var path = Path.Combine(dir, "big.png");
        var e = Assert.Throws<AnyResException>(() => Rendering.RenderPng(new FieldSynthesizer(64), FieldSynthesizer.Latent(Phases),
            CanvasView.FullFrame(5000, 5000), path, new RenderOptions { MaxPixels = 1_000_000 }));
        Assert.Contains("max-pixels", e.Message);
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void TileGridShiftsTheLastTileBackAndOwnsEachPixelOnce()
    {
        var grid = new TileGrid(600, 40, 256);
        Assert.Equal(new[] { 0, 256, 344 }, grid.Xs);
        Assert.Equal(new[] { (0, 256), (256, 512), (512, 600) }, grid.OwnedX);
        Assert.Equal(new[] { 0 }, grid.Ys);
        Assert.Equal(new[] { (0, 40) }, grid.OwnedY);
        var exact = new TileGrid(512, 512, 256);
        Assert.Equal(new[] { 0, 256 }, exact.Xs);
    }

    [Fact]
    public void ACancelledRenderStopsBeforeItsNextForward()
    {
        var synth = new FieldSynthesizer(16);
        var view = CanvasView.FullFrame(160, 160);   // 100 tiles, 25 forwards of 4
        var sink = new ImageBuffer(160, 160, 3);
        using var cancel = new CancellationTokenSource();
        var options = new RenderOptions { TileBatch = 4, Cancellation = cancel.Token, Progress = (done, _) => { if (done == 8) cancel.Cancel(); } };
        Assert.Throws<OperationCanceledException>(() => TileRenderer.Render(synth, FieldSynthesizer.Latent(Phases), view, sink, options));
        Assert.Equal(2, synth.Calls);
        Assert.Equal(0, sink.RowsWritten);   // the first tile row (10 tiles) was never completed
    }
}

public class TileRendererLeakTests
{
    /// <summary>Every tensor a forward makes dies with its batch, so native memory does not grow with the number of tiles.</summary>
    [Fact]
    public void RenderingLeavesNoLiveTensors()
    {
        using var ws = FieldSynthesizer.Latent(0.3, -1.1, 2.0);
        var synth = new FieldSynthesizer(32);
        Rendering.RenderImage(synth, ws, CanvasView.FullFrame(40, 40), new RenderOptions { TileBatch = 2 });   // warm-up
        long before = TorchSharp.DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount;
        Rendering.RenderImage(synth, ws, CanvasView.FullFrame(300, 200), new RenderOptions { TileBatch = 2 });
        Assert.Equal(before, TorchSharp.DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount);
    }
}
