namespace AnyRes.Core;

/// <summary>
/// An error caused by the user's input (a file, a flag, a checkpoint). The CLI prints its message as one line
/// and exits non-zero, without a stack trace; anything else is a bug and keeps its trace.
/// </summary>
public class AnyResException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>An error about one file: the message starts with the path.</summary>
    public static AnyResException ForFile(string path, string reason, Exception? inner = null) => new($"{path}: {reason}", inner);
}
