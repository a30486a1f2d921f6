using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AnyRes.Core;

/// <summary>
/// Process-wide native settings that must be in place before the first tensor operation; applied once when the AnyRes
/// assembly loads. A value the user set in the environment is always kept.
/// <para>
/// oneDNN (libtorch's CPU convolution library) is capped at SSE4.1. On this project's machines (AMD EPYC with AVX-512,
/// libtorch 2.10 from TorchSharp 0.107) its AVX2 and AVX-512 JIT kernels give wrong float32 results that float64 (which
/// bypasses oneDNN) and PyTorch 1.13 do not: a fuzz of 400 random convolutions found 44 wrong forwards or gradients with
/// AVX2 (NaN outputs, input gradients off by 100 %), none with SSE4.1. oneDNN reads the variable once, at its first
/// primitive, so it must be in the native environment (setenv, not .NET's copy). ONEDNN_MAX_CPU_ISA=ALL restores its
/// default. The heavy convolutions do not go through oneDNN anyway (see Ops/Conv2d).
/// </para>
/// <para>
/// glibc's malloc serves every block above its mmap threshold with a fresh mapping and unmaps it on free, so each large
/// intermediate tensor is paid for again in page faults. On the sandboxed machines this project runs on that made a
/// 75 MB tensor copy take 147 ms instead of 3 ms and filtered leaky ReLU 18× slower. Mappings are turned off and the heap
/// top is never trimmed, so freed tensor memory is reused; resident memory then stays at the process's peak (flat in
/// long runs). Any MALLOC_* variable set by the user leaves malloc alone.
/// </para>
/// </summary>
public static class NativeSettings
{
    public const string OneDnnIsaVariable = "ONEDNN_MAX_CPU_ISA";

    [DllImport("libc", EntryPoint = "setenv")]
    static extern int SetEnv(string name, string value, int overwrite);

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int MallOpt(int parameter, int value);

    const int M_TRIM_THRESHOLD = -1, M_MMAP_MAX = -4;

    /// <summary>Whether malloc was switched to the reuse-everything heap (false when the user set MALLOC_* or off Linux).</summary>
    public static bool HeapReuse { get; private set; }

#pragma warning disable CA2255 // must run before any TorchSharp call of the assembly's users
    [ModuleInitializer]
#pragma warning restore CA2255
    public static void Apply()
    {
        if (!OperatingSystem.IsLinux()) return;
        if (Environment.GetEnvironmentVariable(OneDnnIsaVariable) is null) SetEnv(OneDnnIsaVariable, "SSE41", 0);
        bool userMalloc = Environment.GetEnvironmentVariables().Keys.Cast<string>().Any(k => k.StartsWith("MALLOC_", StringComparison.Ordinal));
        if (!userMalloc && !HeapReuse)
            HeapReuse = MallOpt(M_MMAP_MAX, 0) == 1 & MallOpt(M_TRIM_THRESHOLD, int.MaxValue) == 1;
    }
}
