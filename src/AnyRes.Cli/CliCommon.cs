using System.Runtime.InteropServices;
using System.CommandLine;
using AnyRes.Core;
using TorchSharp;

namespace AnyRes.Cli;

/// <summary>What every verb shares: the device option and turning user errors into one line and a non-zero exit.</summary>
public static class CliCommon
{
    public static readonly Option<string> DeviceOption = new("--device")
    {
        Description = "Where tensors live: cpu, cuda or cuda:N",
        DefaultValueFactory = _ => "cpu",
        Recursive = true,
    };

    public static readonly Option<int?> ThreadsOption = new("--threads")
    {
        Description = "Intra-op threads for tensor work (default: libtorch's choice, the number of physical cores)",
        Recursive = true,
    };

    public static torch.Device Device(ParseResult result) => TorchRuntime.ParseDevice(result.GetValue(DeviceOption)!);

    /// <summary>Exit code for a user error (bad input, bad flag): the command could not proceed.</summary>
    public const int UserError = 2;

    public static int Invoke(RootCommand root, string[] args)
    {
        if (NativeSettings.HeapVariableError is { } heapError)
        {
            Console.Error.WriteLine($"error: {heapError}");
            return UserError;
        }
        var parse = root.Parse(args);
        // A mistyped flag or value is bad input like any other: one line, not the parser's error list followed by the whole help.
        if (parse.Errors.Count > 0) return Fail($"{string.Join("; ", parse.Errors.Select(e => e.Message))} (--help lists the options)");
        try
        {
            return parse.Invoke();
        }
        catch (Exception e) when (IsUserError(e))
        {
            return Fail(e.Message);
        }
    }

    /// <summary>
    /// Bad input (<see cref="AnyResException"/>) and what the file system refuses (a file where a folder should be, a full disk,
    /// no permission: the message names the path) are the user's to fix: one line. Anything else is a bug and keeps its trace.
    /// </summary>
    static bool IsUserError(Exception e) => e is AnyResException or IOException or UnauthorizedAccessException;

    static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {System.Text.RegularExpressions.Regex.Replace(message, @"\s+", " ").Trim()}");
        return UserError;
    }

    /// <summary>Wraps a verb's body so user errors print one line; unexpected exceptions keep their stack trace.</summary>
    public static Func<ParseResult, int> Action(Func<ParseResult, int> body) => result =>
    {
        try
        {
            if (result.GetValue(ThreadsOption) is int threads)
            {
                if (threads < 1) throw new AnyResException($"--threads {threads}: expected at least 1");
                torch.set_num_threads(threads);
            }
            return body(result);
        }
        catch (Exception e) when (IsUserError(e))
        {
            return Fail(e.Message);
        }
    };

    /// <summary>A checkpoint the verb is about to write: an existing file or folder there is never replaced.</summary>
    public static string NewOutput(string path, string flag) =>
        File.Exists(path) || Directory.Exists(path)
            ? throw AnyResException.ForFile(path, $"already exists; not overwritten (remove it or give another {flag})")
            : path;

    /// <summary>While alive, Ctrl-C cancels <see cref="Token"/> (saying <c>message</c>) instead of ending the process; a second Ctrl-C ends it at once.</summary>
    public sealed class CtrlC : IDisposable
    {
        readonly CancellationTokenSource _cancel = new();
        readonly ConsoleCancelEventHandler _handler;
        readonly PosixSignalRegistration _term;

        public CtrlC(string message)
        {
            _handler = (_, e) =>
            {
                if (_cancel.IsCancellationRequested) return;
                e.Cancel = true;
                _cancel.Cancel();
                Console.Error.WriteLine($"\n{message} (Ctrl-C again to abort)");
            };
            Console.CancelKeyPress += _handler;
            // SIGTERM (kill, a batch scheduler's pre-emption, a container stop) stops the same way; a second one ends the process.
            _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                if (_cancel.IsCancellationRequested) return;
                context.Cancel = true;
                _cancel.Cancel();
                Console.Error.WriteLine($"\nSIGTERM: {message} (again to abort)");
            });
        }

        public CancellationToken Token => _cancel.Token;

        public void Dispose()
        {
            Console.CancelKeyPress -= _handler;
            _term.Dispose();
            _cancel.Dispose();
        }
    }
}
