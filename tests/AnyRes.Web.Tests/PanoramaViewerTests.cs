using System.Net;
using System.Text.Json;
using AnyRes.Networks;
using AnyRes.Synthesis;

namespace AnyRes.Web.Tests;

/// <summary>A 360° model in the viewer: the canvas is its whole strip, which wraps around at every level.</summary>
public class PanoramaViewerTests : IDisposable
{
    static readonly Lazy<string> Pano = new(() =>
    {
        TorchSharp.torch.manual_seed(11);
        var path = Path.Combine(Directory.CreateTempSubdirectory("anyres-viewer-pano").FullName, "pano.safetensors");
        NetworkCheckpoint.Save(path, null, new Generator(GeneratorOptions.Tiny(16) with { Panorama = true, Fov = 60 }), null);
        return path;
    });

    readonly ViewerFactory factory = new(TinyNetworks.Options() with { Networks = [Pano.Value] });
    readonly HttpClient client;

    public PanoramaViewerTests() => client = factory.CreateClient();

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task The_canvas_is_the_whole_strip_and_its_tiles_are_the_strip_rendered_by_the_library()
    {
        var networks = JsonDocument.Parse(await client.GetStringAsync("/api/networks")).RootElement.GetProperty("networks");
        Assert.Equal(6.0, networks[0].GetProperty("panorama").GetDouble());
        // Whatever aspect the URL names, the image is the strip: 6 frames of 16 px at the base, doubled three times.
        var info = JsonDocument.Parse(await client.GetStringAsync("/api/image/pano/model/2/1/16x9")).RootElement;
        Assert.Equal((96 << 3, 16 << 3), (info.GetProperty("width").GetInt32(), info.GetProperty("height").GetInt32()));

        // Zoom 2 (32 px high, 192 wide): the last tile column ends at the strip's right edge, which the library renders as
        // the continuation of its left edge.
        var tiles = GeneratorTiles.Load(Pano.Value, TorchSharp.torch.CPU);
        using var ws = tiles.Map(2);
        int baseLevel = info.GetProperty("minLevel").GetInt32();
        var strip = Rendering.RenderImage(tiles, ws, CanvasView.Panorama(32, 6));
        for (int column = 0; column < 6; column++)
        {
            var served = Pngs.Decode(await client.GetByteArrayAsync($"/dzi/pano/model/2/1/1x1_files/{baseLevel + 1}/{column}_0.png"));
            Assert.Equal((32, 32), (served.Width, served.Height));
            var expected = strip.ToRgbBytes().Chunk(3).Where((_, i) => i % 192 / 32 == column).SelectMany(px => px).ToArray();
            Assert.Equal(expected, served.Rgb);
        }
    }

    [Fact]
    public async Task The_upsampled_baseline_is_refused_for_a_panorama()
    {
        var response = await client.GetAsync("/api/image/pano/upsampled/2/1/1x1");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("panorama", await response.Content.ReadAsStringAsync());
    }
}
