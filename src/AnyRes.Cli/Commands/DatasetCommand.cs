using System.CommandLine;

namespace AnyRes.Cli.Commands;

/// <summary><c>anyres dataset</c>: inspect image folders, preview patches, make the built-in data, fetch photo sets.</summary>
public static class DatasetCommand
{
    public static Command Create()
    {
        var command = new Command("dataset", "Inspect image datasets, preview sampled patches, synthesise the built-in dataset, fetch real photo sets.");
        command.Subcommands.Add(DatasetInspectCommand.Create());
        command.Subcommands.Add(DatasetPatchesCommand.Create());
        command.Subcommands.Add(DatasetSynthCommand.Create());
        command.Subcommands.Add(DatasetFetchCommand.Create());
        return command;
    }
}
