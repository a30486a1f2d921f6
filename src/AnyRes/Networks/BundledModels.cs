using AnyRes.Core;

namespace AnyRes.Networks;

/// <summary>
/// Trained models shipped with AnyRes: the repository's <c>models/*.safetensors</c>, copied next to the binaries, found by
/// file name without extension wherever a network path is accepted (<c>--network deep-sky</c>). Each has a model card
/// (<c>models/NAME.md</c>) with its data, licence, command, wall time and metrics.
/// </summary>
public static class BundledModels
{
    public const string Extension = ".safetensors";

    /// <summary>The folder the build copies <c>models/</c> into.</summary>
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "models");

    public static IReadOnlyList<string> Names(string? folder = null)
    {
        var dir = folder ?? Folder;
        return Directory.Exists(dir)
            ? Directory.GetFiles(dir, "*" + Extension).Select(f => Path.GetFileNameWithoutExtension(f)!).Order(StringComparer.Ordinal).ToList()
            : [];
    }

    /// <summary>
    /// A file that exists is returned as it is; else a bare name (no folder, no extension) is the bundled model of that name.
    /// Anything else is an error naming the path (and for a bare name, the bundled models).
    /// </summary>
    public static string Resolve(string nameOrPath, string? folder = null)
    {
        if (File.Exists(nameOrPath)) return nameOrPath;
        if (!IsName(nameOrPath)) throw AnyResException.ForFile(nameOrPath, "no such network file");
        var file = Path.Combine(folder ?? Folder, nameOrPath + Extension);
        if (File.Exists(file)) return file;
        var names = Names(folder);
        throw AnyResException.ForFile(nameOrPath, $"no such network file, and no bundled model of that name (bundled: {(names.Count > 0 ? string.Join(", ", names) : "none")})");
    }

    static bool IsName(string text) => text.Length > 0 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
