namespace AnyRes.Core;

/// <summary>Writes files users care about through a temporary sibling and a rename, so a crash never leaves half a file.</summary>
public static class AtomicFile
{
    /// <summary>Calls <paramref name="write"/> with a stream on a temporary file next to <paramref name="path"/>, flushes it to disk, then renames it over the target.</summary>
    /// <remarks>
    /// What the file system refuses (a full disk, a read-only folder, a file where the folder should be) becomes one
    /// <see cref="AnyResException"/> naming the target, with no temporary file left behind and the previous version intact.
    /// </remarks>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            CreateFolder(Path.GetDirectoryName(full)!);
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e)
        {
            if (File.Exists(temp)) File.Delete(temp);
            if (e is IOException or UnauthorizedAccessException) throw AnyResException.ForFile(full, $"cannot write it: {Reason(e)}", e);
            throw;
        }
    }

    /// <summary>Creates <paramref name="folder"/> (and its parents) or says in one line why it cannot.</summary>
    public static void CreateFolder(string folder)
    {
        if (File.Exists(folder)) throw AnyResException.ForFile(folder, "is a file, not a folder");
        try { Directory.CreateDirectory(folder); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw AnyResException.ForFile(folder, $"cannot create the folder: {Reason(e)}", e);
        }
    }

    /// <summary>The reason of a refused write without the temporary file's name (.NET on Unix puts errno in HResult).</summary>
    public static string Reason(Exception e) => e switch
    {
        UnauthorizedAccessException => "permission denied",
        IOException { HResult: 28 } => "no space left on device",
        IOException { HResult: 30 } => "read-only file system",
        IOException { HResult: 122 } => "disk quota exceeded",
        DirectoryNotFoundException => "its folder does not exist",
        _ => e.Message,
    };

    public static void WriteAllText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s, new System.Text.UTF8Encoding(false), leaveOpen: true); w.Write(text); });

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }
}
