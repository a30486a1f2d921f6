using AnyRes.Data;
using AnyRes.Synthesis;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Metrics;

/// <summary>
/// The protocol's picture: for each seed, the centre p×p patch of the N = k·p virtual image at zoom k = 1, 2, 4, 8 — one row
/// from the stage-1 model upsampled by the band-limited warp, below it the row from the stage-2 model (same latent, same
/// transform) — and a last row of held-out real patches at the same zooms (the centre of the held-out image with the
/// longest short side, resized to N; a label ending in "x" marks a zoom that image can only give upsampled). Tiles are
/// enlarged by pixel replication only, so no resampling hides or invents detail.
/// </summary>
public static class ComparisonFigure
{
    public static readonly double[] Zooms = [1, 2, 4, 8];

    public static RgbImage Render(GeneratorMetricSource stage2, GeneratorMetricSource upsampled, ImageSource heldOut, IReadOnlyList<uint> seeds, int enlarge)
    {
        int p = stage2.Resolution;
        var tiles = new List<(RgbImage, string)>();
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var transforms = PatchTransform.Stack(Zooms.Select(k => PatchTransform.FromCrop((k * p - p) / 2, (k * p - p) / 2, p, k * p)).ToArray(), stage2.Device);
            foreach (var seed in seeds)
            {
                var z = torch.tensor(Seeds.Latent(seed, stage2.ZDim), [1, stage2.ZDim], device: stage2.Device).expand(Zooms.Length, -1);
                foreach (var source in new[] { upsampled, stage2 })
                {
                    var images = FeatureExtractors.Quantize(source.Patches(z, transforms)).to(ScalarType.Byte).permute(0, 2, 3, 1).contiguous().cpu();
                    for (int i = 0; i < Zooms.Length; i++)
                        tiles.Add((Enlarge(new RgbImage(p, p, images[i].data<byte>().ToArray()), enlarge), $"k={Zooms[i]}"));
                }
            }
        }
        var real = heldOut.Images.MaxBy(i => i.MinSide)!;
        var decoded = heldOut.Decode(real).Image;
        int m = real.MinSide, cx = (real.Width - m) / 2, cy = (real.Height - m) / 2;
        foreach (var k in Zooms)
        {
            int n = (int)(k * p), o = (n - p) / 2;
            var patch = Lanczos.ResizeWindow(decoded, cx, cy, m, m, n, n, o, o, p, p);
            tiles.Add((Enlarge(patch, enlarge), n > m ? $"k={k} x" : $"k={k}"));
        }
        return ContactSheet.Compose(tiles, Zooms.Length);
    }

    /// <summary>Each pixel repeated factor×factor times.</summary>
    public static RgbImage Enlarge(RgbImage image, int factor)
    {
        if (factor == 1) return image;
        var big = new RgbImage(image.Width * factor, image.Height * factor);
        for (int y = 0; y < big.Height; y++)
            for (int x = 0; x < big.Width; x++)
                Array.Copy(image.Pixels, ((y / factor) * image.Width + x / factor) * 3, big.Pixels, (y * big.Width + x) * 3, 3);
        return big;
    }
}
