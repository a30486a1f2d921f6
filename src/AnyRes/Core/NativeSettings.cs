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
/// 75 MB tensor copy take 147 ms instead of 3 ms and filtered leaky ReLU 18× slower. The default heap mode,
/// <see cref="HeapMode.Reuse"/>, turns mappings off and never trims the heap top below 2 GB of free space, so freed tensor
/// memory is reused; resident memory then stays near the process's peak heap, fragmentation included, and that creeps in
/// long training runs (SG3-T 256 stage 2: ~8.6 GB of live tensors, 14.7 GiB resident after 2 iterations, 17.6 GB after
/// 4). <see cref="HeapMode.Release"/>, which training prefers (<see cref="PreferHeap"/>), maps blocks of 32 MB and more
/// separately, on 2 MB huge pages (libtorch's THP_MEM_ALLOC_ENABLE), and returns them on free: resident memory stays
/// near what is in use at the price of their page faults (the same run: 11.3 GiB after 4 iterations, iterations ~30–40 %
/// slower). ANYRES_HEAP=reuse|release overrides both; any MALLOC_* variable set by the user leaves malloc alone.
/// </para>
/// <para>
/// libtorch's OpenMP (libgomp) lets an idle worker spin for about 300,000 iterations at every barrier before it sleeps. It
/// cannot see other processes, nor this process's own loader threads: on 2 cores shared with anything else, the spinning
/// worker holds the core the thread it waits for needs, and every parallel region waits out a scheduler slice. Measured
/// with the tiny stage-2 step (bench `train --config tiny`) while builds kept both cores busy: 42.7–43.7 s per iteration
/// with spinning, 4.1–4.4 s with OMP_WAIT_POLICY=PASSIVE. So passive waiting is the default; a user's OMP_WAIT_POLICY or
/// GOMP_SPINCOUNT is kept. libgomp reads it once, when libtorch loads.
/// </para>
/// </summary>
public static class NativeSettings
{
    public const string OneDnnIsaVariable = "ONEDNN_MAX_CPU_ISA", OmpWaitPolicyVariable = "OMP_WAIT_POLICY";

    [DllImport("libc", EntryPoint = "setenv")]
    static extern int SetEnv(string name, string value, int overwrite);

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int MallOpt(int parameter, int value);

    const int M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3, M_MMAP_MAX = -4;

    /// <summary>Selects the heap mode: <c>reuse</c> (default) or <c>release</c>.</summary>
    public const string HeapVariable = "ANYRES_HEAP";

    /// <summary>How idle OpenMP workers wait: the value set here or by the user.</summary>
    public static string OmpWaitPolicy { get; private set; } = "(default)";

    /// <summary>The mode applied; null when the user set MALLOC_*, off Linux, or when ANYRES_HEAP was not understood.</summary>
    public static HeapMode? Heap { get; private set; }

    /// <summary>One line for the user when ANYRES_HEAP holds an unknown value (the CLI exits with it), else null.</summary>
    public static string? HeapVariableError { get; private set; }

    /// <summary>Parses an ANYRES_HEAP value (null or empty: the default).</summary>
    public static HeapMode? ParseHeapMode(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "reuse" => HeapMode.Reuse,
        "release" => HeapMode.Release,
        _ => null,
    };

#pragma warning disable CA2255 // must run before any TorchSharp call of the assembly's users
    [ModuleInitializer]
#pragma warning restore CA2255
    public static void Apply()
    {
        if (!OperatingSystem.IsLinux()) return;
        if (Environment.GetEnvironmentVariable(OneDnnIsaVariable) is null) SetEnv(OneDnnIsaVariable, "SSE41", 0);
        OmpWaitPolicy = Environment.GetEnvironmentVariable(OmpWaitPolicyVariable) is { } userPolicy ? userPolicy
            : Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") is { } spin ? $"(GOMP_SPINCOUNT={spin})"
            : SetEnv(OmpWaitPolicyVariable, "PASSIVE", 0) == 0 ? "PASSIVE" : "(default)";
        bool userMalloc = Environment.GetEnvironmentVariables().Keys.Cast<string>().Any(k => k.StartsWith("MALLOC_", StringComparison.Ordinal));
        if (userMalloc || Heap is not null || HeapVariableError is not null) return;
        var requested = Environment.GetEnvironmentVariable(HeapVariable);
        var mode = ParseHeapMode(requested);
        if (mode is null)
        {
            HeapVariableError = $"{HeapVariable}={requested}: expected reuse or release";
            return;
        }
        heapChosenByUser = !string.IsNullOrWhiteSpace(requested);
        SetHeap(mode.Value);
    }

    static bool heapChosenByUser;

    /// <summary>
    /// The heap mode a workload prefers (training: <see cref="HeapMode.Release"/>), applied unless the user chose one with
    /// ANYRES_HEAP or set MALLOC_*. Call it before the workload's first large tensor: libtorch reads THP_MEM_ALLOC_ENABLE once.
    /// </summary>
    public static void PreferHeap(HeapMode mode)
    {
        if (Heap is null || heapChosenByUser || Heap == mode) return;
        SetHeap(mode);
    }

    static void SetHeap(HeapMode mode)
    {
        const int GlibcDefaultMmapMax = 65536;
        bool applied = mode == HeapMode.Reuse
            ? MallOpt(M_MMAP_MAX, 0) == 1 & MallOpt(M_TRIM_THRESHOLD, int.MaxValue) == 1
            // 32 MB is the largest threshold glibc accepts.
            : SetEnv("THP_MEM_ALLOC_ENABLE", "1", 0) == 0 & MallOpt(M_MMAP_MAX, GlibcDefaultMmapMax) == 1
              & MallOpt(M_MMAP_THRESHOLD, 32 << 20) == 1 & MallOpt(M_TRIM_THRESHOLD, int.MaxValue) == 1;
        if (applied) Heap = mode;
    }
}

/// <summary>How glibc's malloc treats freed tensor memory (see <see cref="NativeSettings"/>).</summary>
public enum HeapMode
{
    /// <summary>Keep every freed block for reuse: fastest, resident memory stays at the peak heap.</summary>
    Reuse,
    /// <summary>Map blocks of 32 MB and more on huge pages and return them on free: less resident memory, slower.</summary>
    Release,
}
