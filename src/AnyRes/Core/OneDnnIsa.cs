using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AnyRes.Core;

/// <summary>
/// Caps oneDNN (libtorch's CPU convolution library) at SSE4.1. On this project's machines (AMD EPYC with AVX-512, libtorch
/// 2.10 from TorchSharp 0.107) its JIT kernels give wrong float32 results that float64 (which bypasses oneDNN) and PyTorch
/// 1.13 do not: with AVX-512 the convolution backward-data returns wrong, run-to-run different input gradients (11×11
/// stride 4: gradient sum 249 or 59 where float64 gives 59.29); capped at AVX2 the forward of a 3×3 convolution on a 2×2
/// input returns NaN. Capped at SSE4.1 every check agrees with float64 (tests: OneDnnIsaTests, the LPIPS and ResNet18
/// parity tests); the ResNet18 forward is about 1.5× slower than with AVX-512. oneDNN reads the variable once, at its first
/// primitive, so it must be in the native environment (setenv, not .NET's copy) before any convolution runs; a value the
/// user set is kept (ONEDNN_MAX_CPU_ISA=ALL restores oneDNN's default).
/// </summary>
public static class OneDnnIsa
{
    [DllImport("libc", EntryPoint = "setenv")]
    static extern int SetEnv(string name, string value, int overwrite);

    public const string Variable = "ONEDNN_MAX_CPU_ISA";

#pragma warning disable CA2255 // must run before any TorchSharp call of the assembly's users
    [ModuleInitializer]
#pragma warning restore CA2255
    public static void Apply()
    {
        if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable(Variable) is null) SetEnv(Variable, "SSE41", 0);
    }
}
