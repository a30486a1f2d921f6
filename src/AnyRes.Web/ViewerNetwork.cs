using System.Security.Cryptography;
using AnyRes.Core;
using AnyRes.Networks;
using AnyRes.Synthesis;
using TorchSharp;

namespace AnyRes.Web;

/// <summary>
/// One network the viewer serves: its generator as a tile source (through <see cref="GeneratorTiles.Load"/>, the entry point
/// every checkpoint format goes through), the same generator as the upsampled baseline, and a hash of the file so that tile
/// ETags change when the file does.
/// </summary>
public sealed class ViewerNetwork
{
    public string Name { get; }
    public string Path { get; }
    public GeneratorTiles Tiles { get; }
    public UpsampledTiles Upsampled { get; }
    public string FileHash { get; }

    /// <summary>The zooms the model saw in training: stage 2 its scale mapping range, stage 1 and official models only zoom 1.</summary>
    public (double Min, double Max) TrainedZoom =>
        Tiles.G.Options.TrainingMode == TrainingMode.Patch ? (Tiles.G.Options.ScaleMappingMin, Tiles.G.Options.ScaleMappingMax) : (1, 1);

    ViewerNetwork(string name, string path, GeneratorTiles tiles, string hash) =>
        (Name, Path, Tiles, Upsampled, FileHash) = (name, path, tiles, new UpsampledTiles(tiles), hash);

    public ITileSynthesizer Source(RenderMode mode) => mode == RenderMode.Upsampled ? Upsampled : Tiles;

    /// <summary>Loads every file; names are file names without extension, made unique with -2, -3, … in order.</summary>
    public static IReadOnlyList<ViewerNetwork> LoadAll(IEnumerable<string> paths, torch.Device device)
    {
        var networks = new List<ViewerNetwork>();
        foreach (var path in paths)
        {
            var stem = System.IO.Path.GetFileNameWithoutExtension(path);
            var name = stem;
            for (int k = 2; networks.Any(n => n.Name == name); k++) name = $"{stem}-{k}";
            var resolved = BundledModels.Resolve(path);
            var tiles = GeneratorTiles.Load(resolved, device);
            using var file = File.OpenRead(resolved);
            networks.Add(new ViewerNetwork(name, System.IO.Path.GetFullPath(resolved), tiles, Convert.ToHexStringLower(SHA256.HashData(file))));
        }
        if (networks.Count == 0) throw new AnyResException("give at least one --network");
        return networks;
    }
}

/// <summary>How a tile is made: by the model at the tile's own scale, or from the model's single p×p image by the band-limited warp.</summary>
public enum RenderMode { Model, Upsampled }
