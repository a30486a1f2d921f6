using System.CommandLine;
using AnyRes.Core;
using AnyRes.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AnyRes.Cli.Commands;

/// <summary>anyres serve: the deep-zoom web viewer (src/AnyRes.Web) on loopback unless --host says otherwise.</summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var defaults = new ViewerOptions();
        var networks = new Option<string[]>("--network") { Description = "Network checkpoint, official snapshot (.pkl) or bundled model name (deep-sky) to offer (repeatable; the page switches between them)", Required = true, AllowMultipleArgumentsPerToken = true };
        var port = new Option<int>("--port") { Description = "TCP port (0 = any free port)", DefaultValueFactory = _ => 8080 };
        var host = new Option<string>("--host") { Description = "Address to listen on; anything but loopback exposes the server (no authentication) and prints a warning", DefaultValueFactory = _ => "127.0.0.1" };
        var tileSize = new Option<int>("--tile-size") { Description = "Deep Zoom tile side in pixels (default: the smallest multiple of the model's p that is at least 256)", DefaultValueFactory = _ => defaults.TileSize };
        var levels = new Option<int>("--levels") { Description = "Zoom levels past the base size, each doubling the zoom (6 = up to 64x; the page marks the trained range)", DefaultValueFactory = _ => defaults.Levels };
        var renders = new Option<int>("--renders") { Description = "Renders running at once (default: the number of cores)", DefaultValueFactory = _ => defaults.MaxRenders };
        var queue = new Option<int>("--queue") { Description = "Renders waiting beyond that; more answer 503 with Retry-After", DefaultValueFactory = _ => defaults.QueueLength };
        var cacheMb = new Option<long>("--cache-mb") { Description = "In-memory tile cache budget in MiB (least recently used tiles go first)", DefaultValueFactory = _ => defaults.CacheBytes >> 20 };
        var tileBatch = new Option<int>("--tile-batch") { Description = "Model tiles per generator forward", DefaultValueFactory = _ => defaults.TileBatch };
        var maxAspect = new Option<int>("--max-aspect") { Description = "Largest canvas aspect ratio a request may ask for (N:1)", DefaultValueFactory = _ => defaults.MaxAspect };
        var maxSave = new Option<long>("--max-save-pixels") { Description = "Largest image \"save this view\" renders, in pixels", DefaultValueFactory = _ => defaults.MaxSavePixels };
        var command = new Command("serve", "Serve a deep-zoom web page over generated images: pan and zoom while the model renders every tile at the zoom you look at (OpenSeadragon, Deep Zoom tiles, side-by-side with the upsampled baseline, save the view as PNG).")
        {
            networks, port, host, tileSize, levels, renders, queue, cacheMb, tileBatch, maxAspect, maxSave,
        };
        command.SetAction(CliCommon.Action(result =>
        {
            if (result.GetValue(port) is < 0 or > 65535) throw new AnyResException($"--port {result.GetValue(port)}: expected 0..65535");
            var options = new ViewerOptions
            {
                Networks = [.. result.GetValue(networks)!], Device = result.GetValue(CliCommon.DeviceOption)!, TileSize = result.GetValue(tileSize),
                Levels = result.GetValue(levels), MaxRenders = result.GetValue(renders), QueueLength = result.GetValue(queue),
                CacheBytes = result.GetValue(cacheMb) << 20, TileBatch = result.GetValue(tileBatch), MaxAspect = result.GetValue(maxAspect),
                MaxSavePixels = result.GetValue(maxSave),
            };
            string address = result.GetValue(host)!;
            if (!ViewerApp.IsLoopback(address))
                Console.Error.WriteLine($"warning: --host {address} makes the viewer reachable from other machines; it has no authentication and every request can cost CPU time");
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
            builder.WebHost.UseUrls($"http://{(address.Contains(':') ? $"[{address}]" : address)}:{result.GetValue(port)}");
            var app = ViewerApp.Build(builder, options);
            app.Start();
            var viewer = app.Services.GetRequiredService<Viewer>();
            foreach (var url in app.Urls) Console.WriteLine($"AnyRes viewer at {url.Replace("[::1]", "localhost")}/  (Ctrl-C stops)");
            foreach (var n in viewer.NetworkList) Console.WriteLine($"  {n.Name}: {n.Path} (p = {n.Tiles.TileSize}, trained zoom {n.TrainedZoom.Min}-{n.TrainedZoom.Max}x)");
            app.WaitForShutdown();
            return 0;
        }));
        return command;
    }
}
