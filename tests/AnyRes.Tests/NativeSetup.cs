using System.Runtime.CompilerServices;

namespace AnyRes.Tests;

static class NativeSetup
{
    /// <summary>Tests may run a convolution before touching any AnyRes type: apply the native settings first (see NativeSettings).</summary>
    [ModuleInitializer]
    internal static void Init() => AnyRes.Core.NativeSettings.Apply();
}
