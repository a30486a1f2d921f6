using System.Net;
using System.Text.Json;
using System.Xml.Linq;
using AnyRes.Synthesis;

namespace AnyRes.Web.Tests;

/// <summary>The HTTP surface on the real app with two tiny networks (p = 16, 32-px tiles, three levels past the base).</summary>
public class ServerTests(ServerTests.Fixture fixture) : IClassFixture<ServerTests.Fixture>
{
    public sealed class Fixture : IDisposable
    {
        public ViewerFactory Factory { get; } = new();
        public HttpClient Client { get; }
        public Fixture() => Client = Factory.CreateClient();
        public void Dispose() => Factory.Dispose();
    }

    HttpClient Client => fixture.Client;

    [Fact]
    public async Task DziDescribesTheFullImageAtTheDeepestLevel()
    {
        var response = await Client.GetAsync("/dzi/stage2/model/3/0.7/16x9.dzi");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var image = XDocument.Parse(await response.Content.ReadAsStringAsync()).Root!;
        XNamespace dz = "http://schemas.microsoft.com/deepzoom/2008";
        Assert.Equal(dz + "Image", image.Name);
        Assert.Equal(("png", "0", "32"), ((string)image.Attribute("Format")!, (string)image.Attribute("Overlap")!, (string)image.Attribute("TileSize")!));
        var size = image.Element(dz + "Size")!;
        // Base: p = 16 on the longer side, 16·9/16 = 9 on the shorter; three doublings past it.
        Assert.Equal((128, 72), ((int)size.Attribute("Width")!, (int)size.Attribute("Height")!));

        using var info = JsonDocument.Parse(await Client.GetStringAsync("/api/image/stage2/model/3/0.7/16x9"));
        Assert.Equal(7, info.RootElement.GetProperty("maxLevel").GetInt32());   // 2^7 = 128
        Assert.Equal(4, info.RootElement.GetProperty("minLevel").GetInt32());   // 16 px: zoom 1
        Assert.Equal(8, info.RootElement.GetProperty("maxZoom").GetDouble());
        Assert.Equal([1.0, 8.0], info.RootElement.GetProperty("trainedZoom").EnumerateArray().Select(e => e.GetDouble()));
    }

    [Theory]
    [InlineData("stage2", "model", "16x9")]
    [InlineData("stage1", "upsampled", "1x3")]
    public async Task EveryTileOfEveryRenderedLevelHasItsSizeAndTheyTileTheLevel(string network, string mode, string aspect)
    {
        using var info = JsonDocument.Parse(await Client.GetStringAsync($"/api/image/{network}/{mode}/1/1/{aspect}"));
        int width = info.RootElement.GetProperty("width").GetInt32(), height = info.RootElement.GetProperty("height").GetInt32();
        int min = info.RootElement.GetProperty("minLevel").GetInt32(), max = info.RootElement.GetProperty("maxLevel").GetInt32();
        for (int level = min; level <= max; level++)
        {
            int levelWidth = (int)Math.Ceiling(width / Math.Pow(2, max - level)), levelHeight = (int)Math.Ceiling(height / Math.Pow(2, max - level));
            var widths = new List<int>();
            var heights = new List<int>();
            for (int column = 0; column * 32 < levelWidth; column++)
                for (int row = 0; row * 32 < levelHeight; row++)
                {
                    var response = await Client.GetAsync($"/dzi/{network}/{mode}/1/1/{aspect}_files/{level}/{column}_{row}.png");
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    var (w, h, _) = Pngs.Decode(await response.Content.ReadAsByteArrayAsync());
                    if (row == 0) widths.Add(w);
                    if (column == 0) heights.Add(h);
                    Assert.True(w == 32 || column * 32 + w == levelWidth, $"level {level} tile {column}_{row}: width {w}");
                    Assert.True(h == 32 || row * 32 + h == levelHeight, $"level {level} tile {column}_{row}: height {h}");
                }
            Assert.Equal(levelWidth, widths.Sum());
            Assert.Equal(levelHeight, heights.Sum());
            var beyond = await Client.GetAsync($"/dzi/{network}/{mode}/1/1/{aspect}_files/{level}/{widths.Count}_0.png");
            Assert.Equal(HttpStatusCode.NotFound, beyond.StatusCode);
        }
    }

    [Theory]
    [InlineData("model", "1x1", 6, 1, 0, 32, 32, 64, 32, 0)]      // zoom 4: canvas 64, origin at the tile's corner
    [InlineData("model", "16x9", 5, 0, 0, 32, 18, 32, 0, 7)]      // zoom 2: 32×18 of a 32 canvas, centred rows (32 − 18)/2 = 7
    [InlineData("upsampled", "2x1", 7, 2, 1, 32, 32, 128, 64, 32 + 32)]   // zoom 8: 128×64 of 128, rows from 32
    public async Task ATileIsTheSameRegionRenderedDirectlyByTheLibrary(string mode, string aspect, int level, int column, int row,
                                                                       int width, int height, double canvas, double originX, double originY)
    {
        var png = await Client.GetByteArrayAsync($"/dzi/stage2/{mode}/5/0.7/{aspect}_files/{level}/{column}_{row}.png");
        var tiles = GeneratorTiles.Load(TinyNetworks.Stage2, TorchSharp.torch.CPU);
        ITileSynthesizer source = mode == "model" ? tiles : new UpsampledTiles(tiles);
        using var ws = tiles.Map(5, 0.7);
        var direct = Rendering.RenderImage(source, ws, new CanvasView(width, height, canvas, originX, originY), new RenderOptions { TileBatch = 4 });
        var served = Pngs.Decode(png);
        Assert.Equal((width, height), (served.Width, served.Height));
        Assert.Equal(direct.ToRgbBytes(), served.Rgb);
    }

    [Fact]
    public async Task IdenticalRequestsGiveIdenticalBytesWithAnImmutableETag()
    {
        const string url = "/dzi/stage1/model/9/0.5/1x1_files/6/1_1.png";
        using var uncached = new ViewerFactory(TinyNetworks.Options() with { CacheBytes = 0 });
        var client = uncached.CreateClient();
        var first = await client.GetAsync(url);
        var second = await client.GetAsync(url);
        Assert.Equal(2, uncached.Viewer.Stats.Rendered);   // rendered twice, not cached
        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await second.Content.ReadAsByteArrayAsync());
        Assert.Equal(first.Headers.ETag, second.Headers.ETag);
        Assert.Contains("immutable", first.Headers.CacheControl!.ToString());

        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        Assert.Equal(HttpStatusCode.NotModified, (await client.SendAsync(request)).StatusCode);
        Assert.Equal(2, uncached.Viewer.Stats.Rendered);

        // Another seed, network or mode is another image: another ETag.
        var other = await client.GetAsync("/dzi/stage1/model/10/0.5/1x1_files/6/1_1.png");
        Assert.NotEqual(first.Headers.ETag, other.Headers.ETag);
        Assert.NotEqual(await first.Content.ReadAsByteArrayAsync(), await other.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task ARepeatedTileComesFromTheCache()
    {
        const string url = "/dzi/stage2/model/77/1/1x1_files/5/0_0.png";
        var first = await Client.GetByteArrayAsync(url);
        long hits = fixture.Factory.Viewer.Stats.CacheHits;
        Assert.Equal(first, await Client.GetByteArrayAsync(url));
        Assert.Equal(hits + 1, fixture.Factory.Viewer.Stats.CacheHits);
    }

    [Theory]
    [InlineData("/dzi/nope/model/1/1/1x1_files/4/0_0.png", 404, "unknown network")]
    [InlineData("/dzi/stage2/sharpened/1/1/1x1_files/4/0_0.png", 400, "mode")]
    [InlineData("/dzi/stage2/model/abc/1/1x1_files/4/0_0.png", 400, "seed")]
    [InlineData("/dzi/stage2/model/-1/1/1x1_files/4/0_0.png", 400, "seed")]
    [InlineData("/dzi/stage2/model/1/NaN/1x1_files/4/0_0.png", 400, "psi")]
    [InlineData("/dzi/stage2/model/1/3/1x1_files/4/0_0.png", 400, "psi")]
    [InlineData("/dzi/stage2/model/1/1/16by9_files/4/0_0.png", 400, "canvas")]
    [InlineData("/dzi/stage2/model/1/1/100x1_files/4/0_0.png", 400, "aspect ratio")]
    [InlineData("/dzi/stage2/model/1/1/1x1_files/four/0_0.png", 400, "level")]
    [InlineData("/dzi/stage2/model/1/1/1x1_files/4/a_0.png", 400, "tile")]
    [InlineData("/dzi/stage2/model/1/1/1x1_files/4/0_0.jpg", 400, "tile")]
    [InlineData("/dzi/stage2/model/1/1/1x1_files/8/0_0.png", 404, "ends at level 7")]
    [InlineData("/dzi/stage2/model/1/1/1x1_files/3/0_0.png", 404, "below the base level")]
    [InlineData("/dzi/stage2/model/1/1/1x1_files/4/1_0.png", 404, "1x1 tiles")]
    [InlineData("/dzi/stage2/model/1/1/1x1_files/99999999999/0_0.png", 400, "level")]
    [InlineData("/save/stage2/model/1/1/1x1?x0=0&y0=0&x1=1&y1=1&width=64", 400, "height")]
    [InlineData("/save/stage2/model/1/1/1x1?x0=0&y0=0&x1=zero&y1=1&width=64&height=64", 400, "x1")]
    [InlineData("/save/stage2/model/1/1/1x1?x0=1&y0=0&x1=0&y1=1&width=64&height=64", 400, "x0 < x1")]
    [InlineData("/save/stage2/model/1/1/1x1?x0=0&y0=0&x1=1&y1=1&width=65536&height=65536", 400, "limit")]
    [InlineData("/api/image/stage2/model/1/1/0x5", 400, "canvas")]
    public async Task MalformedRequestsGetAShortReasonAndNoStackTrace(string url, int status, string reason)
    {
        long rendered = fixture.Factory.Viewer.Stats.Rendered;
        var response = await Client.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Contains(reason, body);
        Assert.True(body.Length < 120 && !body.Contains("   at ") && !body.Contains("Exception") && body.Trim().Split('\n').Length == 1, body);
        Assert.Equal(rendered, fixture.Factory.Viewer.Stats.Rendered);
    }

    [Fact]
    public async Task SaveRendersTheRegionAtTheChosenSizeAsADownload()
    {
        // The right half of a 2:1 canvas (32×16 at the base), at 64×64: the frame's x from 0.5 to 1, rows 0.25..0.75.
        var response = await Client.GetAsync("/save/stage2/model/4/1/2x1?x0=0.5&y0=0&x1=1&y1=1&width=64&height=64");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        var tiles = GeneratorTiles.Load(TinyNetworks.Stage2, TorchSharp.torch.CPU);
        using var ws = tiles.Map(4, 1);
        var direct = Rendering.RenderImage(tiles, ws, CanvasView.Region(64, 64, 0.5, 0.25, 1, 0.75), new RenderOptions { TileBatch = 4 });
        Assert.Equal(direct.ToRgbBytes(), Pngs.Decode(await response.Content.ReadAsByteArrayAsync()).Rgb);
    }

    [Fact]
    public async Task ThePageAndOpenSeadragonAreServed()
    {
        var page = await Client.GetStringAsync("/");
        Assert.Contains("openseadragon.min.js", page);
        var osd = await Client.GetAsync("/openseadragon.min.js");
        Assert.Equal(HttpStatusCode.OK, osd.StatusCode);
        Assert.Contains("OpenSeadragon", await osd.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/missing.js")).StatusCode);
        using var networks = JsonDocument.Parse(await Client.GetStringAsync("/api/networks"));
        Assert.Equal(["stage2", "stage1"], networks.RootElement.GetProperty("networks").EnumerateArray().Select(n => n.GetProperty("name").GetString()));
    }
}
