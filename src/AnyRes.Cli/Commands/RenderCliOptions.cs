using System.CommandLine;
using AnyRes.Core;
using AnyRes.Synthesis;

namespace AnyRes.Cli.Commands;

/// <summary>Options generate and zoom share: the network, truncation, class, tiling and the size guard.</summary>
sealed class RenderCliOptions
{
    public readonly Option<string> Network = new("--network") { Description = "Network: an AnyRes checkpoint (.safetensors) an official StyleGAN3 / anyres-gan snapshot (.pkl, imported once into the cache), or a bundled model by name (deep-sky: models/ next to the binaries)", Required = true };
    public readonly Option<double> Trunc = new("--trunc") { Description = "Truncation psi (1 = none; the paper's demo uses 0.5)", DefaultValueFactory = _ => 1.0 };
    public readonly Option<int?> TruncCutoff = new("--trunc-cutoff") { Description = "Truncate only the first N ws (default: all)" };
    public readonly Option<string?> Class = new("--class") { Description = "Class to render with a conditional network: a name of its class table (saved by conditional training, e.g. birds) or an index" };
    public readonly Option<int> TileBatch = new("--tile-batch") { Description = "Tiles per generator forward", DefaultValueFactory = _ => 4 };
    public readonly Option<long> MaxPixels = new("--max-pixels") { Description = "Refuse outputs larger than this many pixels", DefaultValueFactory = _ => 1L << 28 };

    public GeneratorTiles LoadNetwork(ParseResult result) => GeneratorTiles.Load(result.GetValue(Network)!, CliCommon.Device(result), result.GetValue(Class));

    public TorchSharp.torch.Tensor Map(ParseResult result, GeneratorTiles tiles, uint seed)
    {
        if (result.GetValue(TruncCutoff) is int cutoff && cutoff < 0) throw new AnyResException($"--trunc-cutoff {cutoff}: expected 0 or more");
        return tiles.Map(seed, result.GetValue(Trunc), result.GetValue(TruncCutoff));
    }

    /// <summary>Render options with a one-line progress display on stderr.</summary>
    public RenderOptions RenderOptions(ParseResult result, string label) => new()
    {
        TileBatch = result.GetValue(TileBatch),
        MaxPixels = result.GetValue(MaxPixels),
        Progress = (done, total) => Console.Error.Write($"\r{label}: tile {done}/{total}   "),
    };
}
