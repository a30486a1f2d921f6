namespace AnyRes.Core;

/// <summary>
/// An error caused by the user's input (a file, a flag, a checkpoint). The CLI prints its message as one line
/// and exits non-zero, without a stack trace; anything else is a bug and keeps its trace.
/// </summary>
public class AnyResException(string message, Exception? inner = null) : Exception(OneLine(message), inner)
{
    /// <summary>
    /// Messages quote names read from files (tensor keys, pickle globals), which a corrupt file fills with any byte: control
    /// characters are shown escaped (\n, \x1b), so the message stays one line and cannot drive the terminal.
    /// </summary>
    static string OneLine(string message) =>
        message.Any(char.IsControl)
            ? string.Concat(message.Select(c => c switch { '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", _ when char.IsControl(c) => $"\\x{(int)c:x2}", _ => c.ToString() }))
            : message;

    /// <summary>An error about one file: the message starts with the path.</summary>
    public static AnyResException ForFile(string path, string reason, Exception? inner = null) => new($"{path}: {reason}", inner);
}
