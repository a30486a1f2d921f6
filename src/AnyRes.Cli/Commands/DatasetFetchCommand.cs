using System.CommandLine;
using AnyRes.Data;

namespace AnyRes.Cli.Commands;

public static class DatasetFetchCommand
{
    public static Command Create()
    {
        var set = new Argument<string>("set") { Description = "nature (26 landscape/nature photos, 1280x1024 to 6028x3391) or deep-sky (~555 Stellarium astrophotos, 128 to 2048 px)" };
        set.AcceptOnlyFromAmong(DebianPhotoSets.Names.ToArray());
        var dest = new Argument<string>("dir") { Description = "Destination folder" };
        var command = new Command("fetch", "Download a real photo set from Debian packages (apt-get download + dpkg-deb, nothing installed), with its licence files.") { set, dest };
        command.SetAction(CliCommon.Action(result =>
        {
            var dir = result.GetValue(dest)!;
            int n = DebianPhotoSets.Fetch(result.GetValue(set)!, dir, Console.Error.WriteLine);
            Console.WriteLine($"{n} images in {Path.GetFullPath(dir)}");
            return 0;
        }));
        return command;
    }
}
