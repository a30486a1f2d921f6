using AnyRes.Features;
using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Bench;

/// <summary>
/// ResNet18 feature extraction, images/s at 224², TorchSharp (this port) next to ONNX Runtime on the same ONNX model in the
/// same process, alternating batch by batch. Options: --threads N (2), --batch B (16), --reps R (5). The ONNX graph has batch 1 fixed, so ORT runs the
/// batch as B calls. Medians over reps, and the median of the per-round ratios.
/// </summary>
public static class FeaturesBench
{
    /// <summary>
    /// Pause between the engines, so that neither runs while the other's idle workers still spin (OpenMP's and ORT's
    /// thread pools busy-wait after each parallel region).
    /// </summary>
    const int IdleMs = 200;

    public static int Run(string[] args)
    {
        int threads = Arg(args, "--threads", 2), batch = Arg(args, "--batch", 16), reps = Arg(args, "--reps", 5);
        torch.set_num_threads(threads);
        var net = ResNet18Features.LoadDefault(CPU);
        manual_seed(0);
        using var images = (rand(batch, 3, 224, 224) * 255).floor();
        using var input = net.Preprocess(images);

        var dir = Path.Combine(AppContext.BaseDirectory, "models");
        using var opts = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(Path.Combine(dir, ResNet18Features.ModelFile), opts);
        var inputName = session.InputMetadata.Keys.First();
        var data = input.data<float>().ToArray();
        var ortFeatures = new float[batch * 512];

        // The two engines alternate batch by batch so that both see the same machine (shared VMs drift by ±20 %).
        var ts = new List<double>();
        var ort = new List<double>();
        torch.Tensor? ours = null;
        for (int r = 0; r <= reps; r++)
        {
            using (var scope = NewDisposeScope())
            using (var _ = no_grad())
            {
                var sw = Stopwatch.StartNew();
                var f = ResNet18Features.Pool(net.forward(input)[3]);
                if (r > 0) ts.Add(sw.Elapsed.TotalSeconds); // the first round warms up
                ours?.Dispose();
                ours = f.DetachFromDisposeScope();
            }
            Thread.Sleep(IdleMs);
            var ortWatch = Stopwatch.StartNew();
            for (int b = 0; b < batch; b++)
            {
                var t = new DenseTensor<float>(data.AsMemory(b * 3 * 224 * 224, 3 * 224 * 224), [1, 3, 224, 224]);
                using var results = session.Run([NamedOnnxValue.CreateFromTensor(inputName, t)]);
                results.First().AsEnumerable<float>().ToArray().CopyTo(ortFeatures, b * 512);
            }
            if (r > 0) ort.Add(ortWatch.Elapsed.TotalSeconds);
            Thread.Sleep(IdleMs);
        }
        using var ortT = torch.tensor(ortFeatures).view(batch, 512);
        double maxDiff = (ours! - ortT).abs().max().item<float>();
        double tsMed = Median(ts), ortMed = Median(ort), ratioMed = Median(ts.Zip(ort, (a, b) => a / b).ToList());
        Console.WriteLine($"features: batch {batch}, {threads} threads, {reps} reps (median), oneDNN max ISA {Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") ?? "SSE41 (AnyRes default)"}");
        Console.WriteLine($"  TorchSharp  {batch / tsMed,7:F1} images/s  ({1000 * tsMed / batch:F1} ms/image)");
        Console.WriteLine($"  ONNX Runtime {batch / ortMed,6:F1} images/s  ({1000 * ortMed / batch:F1} ms/image)");
        Console.WriteLine($"  ratio (TorchSharp time / ORT time) {tsMed / ortMed:F2}, median of the per-round ratios {ratioMed:F2}; max |features difference| {maxDiff:g3}");
        ours!.Dispose();
        return 0;
    }

    static double Median(List<double> xs) { var s = xs.Order().ToList(); return s[s.Count / 2]; }

    static int Arg(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
    }
}
