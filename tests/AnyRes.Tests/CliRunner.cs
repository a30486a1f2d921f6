using System.CommandLine;
using AnyRes.Cli;

namespace AnyRes.Tests;

/// <summary>Runs CLI verbs in-process as the `anyres` root would (global --device, one-line user errors), capturing the console.</summary>
public static class CliRunner
{
    public static (int Code, string Out, string Err) Run(Command[] verbs, params string[] args)
    {
        var root = new RootCommand();
        root.Options.Add(CliCommon.DeviceOption);
        foreach (var verb in verbs) root.Subcommands.Add(verb);
        var (stdout, stderr) = (Console.Out, Console.Error);
        var (o, e) = (new StringWriter(), new StringWriter());
        Console.SetOut(o); Console.SetError(e);
        try { return (CliCommon.Invoke(root, args), o.ToString(), e.ToString()); }
        finally { Console.SetOut(stdout); Console.SetError(stderr); }
    }
}
