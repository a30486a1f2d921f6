using System.CommandLine;
using AnyRes.Cli;
using AnyRes.Core;
using AnyRes.Cli.Commands;

var root = new RootCommand("AnyRes: train image generators on photos at their native resolutions and synthesise images at any resolution (Chai et al., ECCV 2022).");
root.Options.Add(CliCommon.DeviceOption);
root.Options.Add(CliCommon.ThreadsOption);
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(DoctorCommand.Create());
root.Subcommands.Add(DatasetCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(ZoomCommand.Create());
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(MetricsCommand.Create());
root.Subcommands.Add(CompareCommand.Create());
root.Subcommands.Add(ReproduceCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(InitCommand.Create());
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(ImportCommand.Create());
// Training runs for hours and its heap fragments; it returns large freed blocks instead (before its first tensor).
if (root.Parse(args).CommandResult is { Parent: System.CommandLine.Parsing.CommandResult { Command.Name: "train" } } or { Command.Name: "reproduce" })
    NativeSettings.PreferHeap(HeapMode.Release);
return CliCommon.Invoke(root, args);
