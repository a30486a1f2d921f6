using System.Diagnostics;
using AnyRes.Core;

namespace AnyRes.Data;

/// <summary>
/// Real photo sets from Debian packages, fetched without installing anything: <c>apt-get download</c> then <c>dpkg-deb -x</c>
/// (the logic of tools/data/fetch_nature_photos.sh and fetch_nebulae.sh). Licence files and a SOURCES.tsv come along.
/// </summary>
public static class DebianPhotoSets
{
    public static readonly IReadOnlyList<string> Names = ["nature", "deep-sky"];

    // (file under usr/share, package, author, licence, output name)
    static IEnumerable<(string Src, string Package, string Author, string Licence, string Out)> NatureFiles()
    {
        foreach (var (n, a) in new[] { ("Aqua", "Charles_Barbin"), ("Blinds", "Lennart_Poettering"), ("Dune", "Marco_Cogoni"), ("FreshFlower", "Jens_Ansorg"),
                     ("Garden", "Charles_Barbin"), ("GreenMeadow", "Timothy_Schellhase"), ("LadyBird", "Charles_Barbin"), ("RainDrops", "blackcombwhistler07"),
                     ("Storm", "Sergey_Nazarov"), ("TwoWings", "Charles_Barbin"), ("YellowFlower", "Charles_Barbin") })
            yield return ($"backgrounds/mate/nature/{n}.jpg", "mate-backgrounds", a, "GPL-2+", $"mate_{n}.jpg");
        foreach (var (f, l) in new[] { ("aitzgorri_by_Aitzol_Berasategi", "CC-BY-4.0"), ("picosdeeuropa_by_Aitzol_Berasategi", "CC-BY-4.0"),
                     ("life_by_Aitzol_Berasategi", "CC-BY-4.0"), ("sunset_by_Aitzol_Berasategi", "CC-BY-4.0"), ("Dragonfly_by_Bolly", "CC-BY-SA-4.0"),
                     ("seeding_by_Clements_Engelhardt", "CC0-1.0") })
            yield return ($"backgrounds/{f}.jpg", "lomiri-wallpapers-16.04", f[(f.IndexOf("_by_") + 4)..], l, $"lomiri_{f}.jpg");
        yield return ("backgrounds/Kleiber_by_Lukas_Baubkus.jpg", "lomiri-wallpapers-20.04", "Lukas_Baubkus", "CC-BY-SA-3.0", "lomiri_Kleiber_by_Lukas_Baubkus.jpg");
        foreach (var (n, a) in new[] { ("BytheWater", "Maciej_Wiklo"), ("ColdRipple", "Risto_Saukonpaa"), ("DarkestHour", "Risto_Saukonpaa"), ("EveningGlow", "Ian_Hex"),
                     ("FallenLeaf", "Martin_Klapetek"), ("OneStandsOut", "Risto_Saukonpaa"), ("Path", "Risto_Saukonpaa"), ("summer_1am", "Risto_Saukonpaa") })
            yield return ($"wallpapers/{n}/contents/images", "plasma-workspace-wallpapers", a, "LGPL-3", $"plasma_{n}.jpg");
    }

    /// <summary>Downloads and extracts a set into <paramref name="dest"/>; returns the number of images written.</summary>
    public static int Fetch(string name, string dest, Action<string> log)
    {
        if (!Names.Contains(name)) throw new AnyResException($"unknown photo set '{name}' (known: {string.Join(", ", Names)})");
        if (FindTool("apt-get") is null || FindTool("dpkg-deb") is null)
            throw new AnyResException("apt-get and dpkg-deb are needed to fetch Debian photo sets; on other systems use 'anyres dataset synth' " +
                "or point the dataset verbs at any folder or .zip of JPEG/PNG/WebP/BMP/TIFF/GIF images");
        var work = Directory.CreateTempSubdirectory("anyres-fetch-").FullName;
        try
        {
            var packages = name == "nature"
                ? new[] { "mate-backgrounds", "lomiri-wallpapers-16.04", "lomiri-wallpapers-20.04", "plasma-workspace-wallpapers" }
                : new[] { "stellarium-data" };
            log($"downloading {string.Join(" ", packages)} with apt-get (a few hundred MB)...");
            Run("apt-get", work, ["download", .. packages], "apt-get download failed (run 'apt-get update' as root once, and check the network)");
            var root = Path.Combine(work, "root");
            foreach (var deb in Directory.GetFiles(work, "*.deb").Order())
                Run("dpkg-deb", work, ["-x", deb, root], $"cannot extract {Path.GetFileName(deb)}");
            var share = Path.Combine(root, "usr", "share");
            return name == "nature" ? CopyNature(share, dest) : CopyDeepSky(share, dest);
        }
        finally { Directory.Delete(work, recursive: true); }
    }

    static int CopyNature(string share, string dest)
    {
        var images = Path.Combine(dest, "highres");
        Directory.CreateDirectory(images);
        var lines = new List<string> { "file\tpackage\tauthor\tlicence" };
        foreach (var f in NatureFiles())
        {
            var src = Path.Combine(share, f.Src);
            // Plasma wallpapers ship several renditions; take the largest file, as the shell script does.
            if (Directory.Exists(src)) src = Directory.GetFiles(src, "*.jpg").OrderByDescending(p => new FileInfo(p).Length).First();
            if (!File.Exists(src)) throw AnyResException.ForFile(src, "missing from the downloaded package (package layout changed?)");
            AtomicFile.WriteAllBytes(Path.Combine(images, f.Out), File.ReadAllBytes(src));
            lines.Add($"{f.Out}\t{f.Package}\t{f.Author}\t{f.Licence}");
        }
        foreach (var copyright in new[] { "mate-backgrounds", "lomiri-wallpapers-16.04", "lomiri-wallpapers-20.04", "plasma-workspace-wallpapers" })
        {
            var src = Path.Combine(share, "doc", copyright, "copyright");
            if (File.Exists(src)) AtomicFile.WriteAllBytes(Path.Combine(dest, $"COPYRIGHT.{copyright}"), File.ReadAllBytes(src));
        }
        AtomicFile.WriteAllText(Path.Combine(dest, "SOURCES.tsv"), string.Join("\n", lines) + "\n");
        return lines.Count - 1;
    }

    static int CopyDeepSky(string share, string dest)
    {
        var folder = Path.Combine(share, "stellarium", "nebulae", "default");
        if (!Directory.Exists(folder)) throw AnyResException.ForFile(folder, "missing from stellarium-data (package layout changed?)");
        Directory.CreateDirectory(dest);
        int n = 0;
        foreach (var file in Directory.GetFiles(folder).Where(f => f.EndsWith(".png") || f.EndsWith(".jpg")).Order())
        {
            AtomicFile.WriteAllBytes(Path.Combine(dest, Path.GetFileName(file)), File.ReadAllBytes(file));
            n++;
        }
        var copyright = Path.Combine(share, "doc", "stellarium-data", "copyright");
        if (File.Exists(copyright)) AtomicFile.WriteAllBytes(Path.Combine(dest, "COPYRIGHT.stellarium-data"), File.ReadAllBytes(copyright));
        return n;
    }

    static string? FindTool(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, tool)).FirstOrDefault(File.Exists);

    static void Run(string tool, string cwd, string[] args, string failure)
    {
        var info = new ProcessStartInfo(tool) { WorkingDirectory = cwd, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new AnyResException($"cannot start {tool}");
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            var last = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Trim();
            throw new AnyResException($"{failure}{(last is null ? "" : $": {last}")}");
        }
    }
}
