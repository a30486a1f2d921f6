using System.Runtime.InteropServices;
using TorchSharp;

namespace AnyRes.Core;

/// <summary>Device selection and the facts <c>anyres doctor</c> reports.</summary>
public static class TorchRuntime
{
    /// <summary>Parses <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>; fails with a clear message when CUDA is asked for but absent.</summary>
    public static torch.Device ParseDevice(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        if (t == "cpu") return torch.CPU;
        if (t == "cuda" || t.StartsWith("cuda:"))
        {
            if (!torch.cuda.is_available())
                throw new AnyResException($"--device {text}: CUDA is not available in this build (it uses the CPU libtorch package; build with -p:TorchBackend=cuda on a machine with an NVIDIA driver)");
            int index = 0;
            if (t.Length > 4 && (!int.TryParse(t[5..], out index) || index < 0 || index >= torch.cuda.device_count()))
                throw new AnyResException($"--device {text}: no such CUDA device (this machine has {torch.cuda.device_count()})");
            return new torch.Device(DeviceType.CUDA, index);
        }
        throw new AnyResException($"--device {text}: expected cpu, cuda or cuda:N");
    }

    /// <summary>
    /// Whether this system's libstdc++ lacks the GLIBCXX version libLibTorchSharp.so asks for (Debian 12). TorchSharp only loads
    /// there because the build weakened that version need (Directory.Build.targets), so "lacking and loaded" means "repair applied".
    /// </summary>
    public static bool LibstdcxxRepairNeeded()
    {
        var lib = new[] { "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6" }.FirstOrDefault(File.Exists);
        if (lib == null) return false;
        return File.ReadAllBytes(lib).AsSpan().IndexOf("GLIBCXX_3.4.32\0"u8) < 0;
    }

    public static IEnumerable<(string Name, string Value)> Describe(torch.Device device)
    {
        yield return (".NET", RuntimeInformation.FrameworkDescription);
        yield return ("OS", RuntimeInformation.OSDescription);
        yield return ("TorchSharp", typeof(torch).Assembly.GetName().Version?.ToString() ?? "?");
        yield return ("libtorch", torch.__version__);
        yield return ("device", device.ToString());
        yield return ("CUDA available", torch.cuda.is_available() ? $"yes ({torch.cuda.device_count()} device(s))" : "no");
        yield return ("threads", torch.get_num_threads().ToString());
        yield return ("processors", Environment.ProcessorCount.ToString());
        yield return ("OpenMP wait policy", NativeSettings.OmpWaitPolicy);
        yield return ("oneDNN max ISA", Environment.GetEnvironmentVariable(NativeSettings.OneDnnIsaVariable) ?? "(default)");
        yield return ("malloc heap mode", NativeSettings.Heap switch
        {
            HeapMode.Reuse => "reuse (mmap off, no trim; ANYRES_HEAP=release returns large blocks; see NativeSettings)",
            HeapMode.Release => "release (blocks ≥ 32 MB mapped on huge pages, returned on free; ANYRES_HEAP)",
            _ => "glibc default (MALLOC_* set by the user, or not Linux)",
        });
        yield return ("libstdc++ repair applied", LibstdcxxRepairNeeded() ? "yes (system libstdc++ lacks GLIBCXX_3.4.32; the build marked it weak in libLibTorchSharp.so)" : "no (system libstdc++ is new enough)");
    }
}
