using System.Globalization;
using System.Net;
using System.Reflection;
using AnyRes.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AnyRes.Web;

/// <summary>
/// The viewer's HTTP surface (minimal APIs). Deep Zoom images live under /dzi/{network}/{mode}/{seed}/{psi}/{W}x{H}: the .dzi
/// descriptor, and tiles at …_files/{level}/{column}_{row}.png. /api/networks and /api/image describe them for the page,
/// /save renders a region as a PNG download, /api/stats reports the counters. The page and OpenSeadragon are embedded.
/// </summary>
public static class ViewerApp
{
    /// <summary>Registers the viewer on a builder whose services may still replace <see cref="ViewerOptions"/> (tests do).</summary>
    public static WebApplication Build(WebApplicationBuilder builder, ViewerOptions options)
    {
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(services => new Viewer(services.GetRequiredService<ViewerOptions>()));
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning).AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        var app = builder.Build();
        app.Services.GetRequiredService<Viewer>();   // load the networks now: a bad file stops the start with one line
        Map(app);
        return app;
    }

    /// <summary>True for 127.0.0.1, ::1 and localhost: the only hosts served without a warning.</summary>
    public static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));

    static void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            try { await next(context); }
            catch (RequestException e) when (!context.Response.HasStarted) { await Refuse(context, e.Status, e.Message); }
            catch (AnyResException e) when (!context.Response.HasStarted) { await Refuse(context, 400, e.Message); }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested) { }   // the client left; so did its render
            catch (Exception e) when (!context.Response.HasStarted)
            {
                app.Logger.LogError(e, "{Path}", context.Request.Path);
                await Refuse(context, 500, "internal error (logged by the server)");
            }
        });

        app.MapGet("/", () => Embedded("index.html"));
        app.MapGet("/{file}", (string file) => Embedded(file));

        app.MapGet("/api/networks", (Viewer v) => Results.Json(new
        {
            networks = v.NetworkList.Select(n => new
            {
                name = n.Name,
                p = n.Tiles.TileSize,
                stage = n.Tiles.G.Options.TrainingMode.ToString().ToLowerInvariant(),
                trainedZoom = new[] { n.TrainedZoom.Min, n.TrainedZoom.Max },
                panorama = n.Tiles.G.PanoramaPeriod,   // frames per turn of a 360° model (null otherwise): the page wraps it around
            }),
            levels = v.Options.Levels,
            maxAspect = v.Options.MaxAspect,
            maxSavePixels = v.Options.MaxSavePixels,
        }));

        app.MapGet("/api/image/{network}/{mode}/{seed}/{psi}/{aspect}", (Viewer v, string network, string mode, string seed, string psi, string aspect) =>
        {
            var spec = Parse(v, network, mode, seed, psi, aspect);
            var pyramid = spec.Pyramid;
            return Results.Json(new
            {
                width = pyramid.Width, height = pyramid.Height, tileSize = pyramid.TileSize, overlap = 0,
                minLevel = pyramid.BaseLevel, maxLevel = pyramid.MaxLevel, baseWidth = pyramid.BaseWidth, baseHeight = pyramid.BaseHeight,
                maxZoom = pyramid.Zoom(pyramid.MaxLevel), panorama = pyramid.PanoramaPeriod, trainedZoom = new[] { spec.Network.TrainedZoom.Min, spec.Network.TrainedZoom.Max },
                dzi = $"/dzi/{spec.Path}.dzi", tilesUrl = $"/dzi/{spec.Path}_files/",
            });
        });

        app.MapGet("/dzi/{network}/{mode}/{seed}/{psi}/{aspect}.dzi", (Viewer v, string network, string mode, string seed, string psi, string aspect) =>
        {
            var p = Parse(v, network, mode, seed, psi, aspect).Pyramid;
            return Results.Text($"""
                <?xml version="1.0" encoding="UTF-8"?>
                <Image xmlns="http://schemas.microsoft.com/deepzoom/2008" Format="png" Overlap="0" TileSize="{p.TileSize}"><Size Width="{p.Width}" Height="{p.Height}"/></Image>
                """, "application/xml");
        });

        app.MapGet("/dzi/{network}/{mode}/{seed}/{psi}/{aspect}_files/{level}/{tile}",
            async (HttpContext context, Viewer v, string network, string mode, string seed, string psi, string aspect, string level, string tile) =>
        {
            var spec = Parse(v, network, mode, seed, psi, aspect);
            var (l, c, r) = spec.ParseTile(level, tile);
            var etag = Viewer.ETagOf(Viewer.TileKey(spec, l, c, r));
            context.Response.Headers.ETag = etag;
            context.Response.Headers.CacheControl = "public, max-age=31536000, immutable";
            if (context.Request.Headers.IfNoneMatch == etag) return Results.StatusCode(304);
            var result = await v.GetTileAsync(spec, l, c, r, context.RequestAborted);
            return result is null ? Busy(context) : Results.Bytes(result.Png, "image/png");
        });

        app.MapGet("/save/{network}/{mode}/{seed}/{psi}/{aspect}", async (HttpContext context, Viewer v, string network, string mode, string seed, string psi, string aspect) =>
        {
            var spec = Parse(v, network, mode, seed, psi, aspect);
            var q = context.Request.Query;
            double Fraction(string name) => double.TryParse(q[name], NumberStyles.Float, CultureInfo.InvariantCulture, out double x) && Math.Abs(x) <= 64 ? x
                : throw new RequestException(400, $"{name}: expected a number (a fraction of the canvas, |x| <= 64)");
            int Pixels(string name) => int.TryParse(q[name], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 && n <= 65536 ? n
                : throw new RequestException(400, $"{name}: expected an integer 1..65536");
            double x0 = Fraction("x0"), y0 = Fraction("y0"), x1 = Fraction("x1"), y1 = Fraction("y1");
            int width = Pixels("width"), height = Pixels("height");
            if (!(x1 > x0 && y1 > y0)) throw new RequestException(400, "region: need x0 < x1 and y0 < y1");
            if ((long)width * height > v.Options.MaxSavePixels)
                throw new RequestException(400, $"{width}x{height}: above the server's limit of {v.Options.MaxSavePixels} pixels");
            var png = await v.RenderAsync(spec, spec.Pyramid.RegionView(x0, y0, x1, y1, width, height), context.RequestAborted);
            if (png is null) return Busy(context);
            var name = string.Create(CultureInfo.InvariantCulture, $"{spec.Network.Name}-{spec.Mode.ToString().ToLowerInvariant()}-seed{spec.Seed}-{width}x{height}.png");
            return Results.File(png, "image/png", name);
        });

        app.MapGet("/api/stats", (Viewer v) => Results.Json(new
        {
            rendered = v.Stats.Rendered, cancelled = v.Stats.Cancelled, rejected = v.Stats.Rejected, cacheHits = v.Stats.CacheHits,
            forwards = v.Stats.Forwards, active = v.Gate.Active, queued = v.Gate.Queued, peakActive = v.Gate.PeakActive,
            cacheEntries = v.Cache.Count, cacheBytes = v.Cache.Bytes,
        }));
    }

    static ImageSpec Parse(Viewer v, string network, string mode, string seed, string psi, string aspect) =>
        ImageSpec.Parse(v.Networks, v.Options, network, mode, seed, psi, aspect);

    static IResult Busy(HttpContext context)
    {
        context.Response.Headers.RetryAfter = "1";
        context.Response.Headers.CacheControl = "no-store";
        return Results.Text("busy: too many renders queued, retry shortly", statusCode: 503);
    }

    static Task Refuse(HttpContext context, int status, string message)
    {
        context.Response.Clear();
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message + "\n");
    }

    static readonly Assembly Assembly = typeof(ViewerApp).Assembly;

    static IResult Embedded(string file)
    {
        var stream = Assembly.GetManifestResourceStream("page/" + file);
        if (stream is null) return Results.Text($"no such file '{file}'\n", statusCode: 404);
        string type = Path.GetExtension(file) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            _ => "application/octet-stream",
        };
        return Results.Stream(stream, type);
    }
}
