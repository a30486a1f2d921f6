using System.Globalization;

namespace AnyRes.Web;

/// <summary>A request the server refuses: the status and one short line for the client (never a stack trace).</summary>
public sealed class RequestException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>What a URL names: a network, how it renders, the latent (seed, truncation ψ) and the canvas aspect, with its pyramid.</summary>
public sealed record ImageSpec(ViewerNetwork Network, RenderMode Mode, uint Seed, double Psi, int AspectWidth, int AspectHeight, DeepZoomPyramid Pyramid)
{
    /// <summary>Names the tiles' content: network file, mode, latent, canvas and pyramid layout (not the URL's spelling of them).</summary>
    public string Key => string.Create(CultureInfo.InvariantCulture,
        $"{Network.FileHash}/{Mode}/{Seed}/{Psi:R}/{AspectWidth}x{AspectHeight}/{Pyramid.TileSize}/{Pyramid.LevelsPastBase}");

    /// <summary>The URL path segments after /dzi/ that name this image (the page builds the same).</summary>
    public string Path => string.Create(CultureInfo.InvariantCulture,
        $"{Uri.EscapeDataString(Network.Name)}/{Mode.ToString().ToLowerInvariant()}/{Seed}/{Psi:R}/{AspectWidth}x{AspectHeight}");

    public static ImageSpec Parse(IReadOnlyDictionary<string, ViewerNetwork> networks, ViewerOptions options,
                                  string network, string mode, string seed, string psi, string aspect)
    {
        if (!networks.TryGetValue(network, out var net)) throw new RequestException(404, $"unknown network '{Clip(network)}'");
        var renderMode = mode switch
        {
            "model" => RenderMode.Model,
            "upsampled" => RenderMode.Upsampled,
            _ => throw new RequestException(400, $"mode '{Clip(mode)}': expected model or upsampled"),
        };
        if (!uint.TryParse(seed, NumberStyles.None, CultureInfo.InvariantCulture, out uint s))
            throw new RequestException(400, $"seed '{Clip(seed)}': expected an integer 0..{uint.MaxValue}");
        if (!double.TryParse(psi, NumberStyles.Float, CultureInfo.InvariantCulture, out double t) || !(Math.Abs(t) <= 2))
            throw new RequestException(400, $"psi '{Clip(psi)}': expected a number in [-2, 2]");
        var parts = aspect.Split('x');
        if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int aw)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int ah) || aw < 1 || ah < 1 || aw > 100_000 || ah > 100_000)
            throw new RequestException(400, $"canvas '{Clip(aspect)}': expected WxH with positive integers, e.g. 16x9");
        int p = net.Tiles.TileSize;
        int tile = options.TileSize > 0 ? options.TileSize : p * (int)Math.Ceiling(256.0 / p);
        if (net.Tiles.G.PanoramaPeriod is double period)
        {
            // The canvas is the whole strip whatever aspect the URL names (so one panorama has one set of tiles).
            if (renderMode == RenderMode.Upsampled) throw new RequestException(400, $"{net.Name} is a panorama: the upsampled baseline is defined for a single frame only");
            var strip = new DeepZoomPyramid(p, 1, 1, tile, options.Levels, period);
            return new ImageSpec(net, renderMode, s, t, strip.BaseWidth, strip.BaseHeight, strip);
        }
        if (Math.Max(aw, ah) > (long)options.MaxAspect * Math.Min(aw, ah))
            throw new RequestException(400, $"canvas {aw}x{ah}: aspect ratio above the server's limit of {options.MaxAspect}:1");
        return new ImageSpec(net, renderMode, s, t, aw, ah, new DeepZoomPyramid(p, aw, ah, tile, options.Levels));
    }

    /// <summary>"level/col_row.png" → numbers inside the pyramid: 400 when not numbers, 404 when outside it.</summary>
    public (int Level, int Column, int Row) ParseTile(string level, string tile)
    {
        if (!int.TryParse(level, NumberStyles.None, CultureInfo.InvariantCulture, out int l))
            throw new RequestException(400, $"level '{Clip(level)}': expected a non-negative integer");
        var name = tile.EndsWith(".png", StringComparison.Ordinal) ? tile[..^4].Split('_') : [];
        if (name.Length != 2 || !int.TryParse(name[0], NumberStyles.None, CultureInfo.InvariantCulture, out int c)
            || !int.TryParse(name[1], NumberStyles.None, CultureInfo.InvariantCulture, out int r))
            throw new RequestException(400, $"tile '{Clip(tile)}': expected COLUMN_ROW.png");
        if (l > Pyramid.MaxLevel) throw new RequestException(404, $"level {l}: the pyramid ends at level {Pyramid.MaxLevel} (zoom {Pyramid.Zoom(Pyramid.MaxLevel):0.##}x)");
        if (l < Pyramid.BaseLevel) throw new RequestException(404, $"level {l}: below the base level {Pyramid.BaseLevel} (zoom < 1 is not rendered)");
        var (columns, rows) = Pyramid.TileCount(l);
        if (c >= columns || r >= rows) throw new RequestException(404, $"tile {c}_{r}: level {l} has {columns}x{rows} tiles");
        return (l, c, r);
    }

    static string Clip(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
