using System.Runtime.CompilerServices;

namespace AnyRes.Tests;

static class NativeSetup
{
    /// <summary>Tests may run a convolution before touching any AnyRes type: apply the oneDNN cap first (see OneDnnIsa).</summary>
    [ModuleInitializer]
    internal static void Init() => AnyRes.Core.OneDnnIsa.Apply();
}
