using System.Text;
using AnyRes.Core;
using AnyRes.Core.Pickle;
using AnyRes.Networks;

namespace AnyRes.Tests.Core;

/// <summary>Hostile and broken pickles: each stops with one line naming the file and the reason, having built and run nothing.</summary>
[Trait("Category", "Import")]
public class TorchPickleTests
{
    static string Official(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "official", name);

    static string Write(byte[] bytes, string name = "x.pkl")
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("anyres-pickle").FullName, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    static byte[] Bytes(params object[] parts) => parts.SelectMany(p => p switch
    {
        string s => Encoding.Latin1.GetBytes(s),
        byte[] b => b,
        _ => throw new ArgumentException(),
    }).ToArray();

    /// <summary>BINUNICODE-free protocol-2 pickle of <c>module.name(arg)</c>: GLOBAL, the argument string, TUPLE1, REDUCE.</summary>
    static byte[] Call(string module, string name, string arg) =>
        Bytes("\u0080\u0002c", module, "\n", name, "\n", "X", BitConverter.GetBytes(arg.Length), arg, "\u0085R.");

    static AnyResException Refused(string path)
    {
        var e = Assert.Throws<AnyResException>(() => OfficialSnapshot.Read(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    [Theory]
    [InlineData("os", "system")]
    [InlineData("posix", "system")]
    [InlineData("subprocess", "Popen")]
    [InlineData("builtins", "eval")]
    public void AGlobalOffTheAllowListIsRefusedByNameAndNothingRuns(string module, string name)
    {
        var dir = Directory.CreateTempSubdirectory("anyres-pickle").FullName;
        var marker = Path.Combine(dir, "ran");
        var path = Write(Call(module, name, $"touch {marker}"));
        var e = Refused(path);
        Assert.Contains($"{module}.{name}", e.Message);
        Assert.Contains("nothing was run", e.Message);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void AStackGlobalIsCheckedToo()
    {
        // Protocol 4: module and name pushed as strings (one memoized and fetched back), then STACK_GLOBAL.
        var pickle = Bytes("\u0080\u0004\u008c\u0008builtins\u0094", "0", "h\u0000", "\u008c\u0004eval\u0093\u008c\u00031+1\u0085R.");
        Assert.Contains("builtins.eval", Refused(Write(pickle)).Message);
    }

    [Fact]
    public void AGlobalInsideANestedStorageStreamIsRefused()
    {
        // torch.storage._load_from_bytes(<a pickle calling os.system>): the outer global is allowed, the nested one is not.
        var nested = Call("os", "system", "true");
        var outer = Bytes("\u0080\u0002ctorch.storage\n_load_from_bytes\nB", BitConverter.GetBytes(nested.Length), nested, "\u0085R.");
        Assert.Contains("os.system", Refused(Write(outer)).Message);
    }

    [Fact]
    public void AnUnsupportedOpcodeIsRefused() =>
        Assert.Contains("opcode", Refused(Write(Bytes("\u0080\u0002(i__main__\nX\n."))).Message);   // INST

    [Fact]
    public void ZeroBytesTruncatedAndNonPickleFilesAreOneLine()
    {
        Assert.Contains("empty file", Refused(Write([])).Message);
        var full = File.ReadAllBytes(Official("sg3t_global_32.pkl"));
        foreach (var cut in new[] { 1, 100, full.Length / 2, full.Length - 1 })
            Assert.Contains("truncated", Refused(Write(full[..cut])).Message);
        Assert.Contains("not a pickle", Refused(Write(Encoding.ASCII.GetBytes("hello"))).Message);
    }

    [Fact]
    public void PicklesThatAreNotSnapshotsAreNamed()
    {
        Assert.Contains("without G or G_ema", Refused(Write(Bytes("\u0080\u0002}q\u0000X\u0001\u0000\u0000\u0000aq\u0001K\u0001s."))).Message);   // {'a': 1}
        Assert.Contains("a pickle of a list", Refused(Write(Bytes("\u0080\u0002]q\u0000(K\u0001K\u0002e."))).Message);                    // [1, 2]
        Assert.Contains("G is a dict", Refused(Write(Bytes("\u0080\u0002}X\u0001\u0000\u0000\u0000G}s."))).Message);                       // {'G': {}}
    }

    [Fact]
    public void NestingAHundredThousandDeepIsAnErrorLineNotAStackOverflow()
    {
        // {'G': _reconstruct_persistent_obj({'type': 'class', 'class_name': 'Generator', 'state': {'_init_kwargs': {'a': ((((...))))}}})}
        const int depth = 100_000;
        string Text(string s) => "X" + Encoding.Latin1.GetString(BitConverter.GetBytes(s.Length)) + s;
        var pickle = Bytes("\u0080\u0002}", Text("G"), "ctorch_utils.persistence\n_reconstruct_persistent_obj\n}(",
            Text("type"), Text("class"), Text("class_name"), Text("Generator"), Text("state"), "}(", Text("_init_kwargs"), "}", Text("a"),
            new string('(', depth), ")", new string('t', depth), "suu\u0085Rs.");
        var message = Refused(Write(pickle)).Message;
        Assert.True(message.Contains("nested deeper than"), message);
    }

    [Fact]
    public void ASafetensorsHeaderStartingWith0x80IsNotTakenForAPickle()
    {
        // Header length 0x280 = 640: its first byte is PROTO's, its second a valid protocol; the JSON at byte 8 tells them apart.
        var header = "{}" + new string(' ', 638);
        var path = Write([.. BitConverter.GetBytes(640L), .. Encoding.ASCII.GetBytes(header)], "x.safetensors");
        Assert.False(OfficialSnapshot.IsSnapshot(path));
        Assert.Empty(SafetensorsFile.Read(path).Tensors);
        Assert.True(OfficialSnapshot.IsSnapshot(Official("sg3t_global_32.pkl")));
    }

    [Fact]
    public void AMissingPathIsNamed() =>
        Assert.Contains("file not found", Assert.Throws<AnyResException>(() => OfficialSnapshot.Read("/nonexistent/snapshot.pkl")).Message);

    [Fact]
    public void StoragesAreReadWithTheirTypeAndGeometry()
    {
        var p = TorchPickle.Read(Official("sg3t_global_32.pkl"));
        Assert.NotEmpty(p.Storages);
        Assert.All(p.Storages, s => Assert.Equal(TorchSharp.torch.ScalarType.Float32, s.Type));
        Assert.IsAssignableFrom<System.Collections.Hashtable>(p.Root);
    }
}

/// <summary>Corrupted snapshots: whatever a flipped byte does, the reader either reads the file or stops with one user-error line.</summary>
[Trait("Category", "Import")]
public class TorchPickleCorruptionTests
{
    [Fact]
    public void EveryCorruptionIsAUserErrorOrARead()
    {
        var original = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "fixtures", "official", "sg3t_global_32.pkl"));
        var rng = new Random(17);
        var dir = Directory.CreateTempSubdirectory("anyres-pickle").FullName;
        int refused = 0;
        for (int i = 0; i < 60; i++)
        {
            var bytes = (byte[])original.Clone();
            // Half the flips in the first 8 KiB, where the structure is dense; the rest anywhere (mostly storage bytes).
            int at = i % 2 == 0 ? rng.Next(8192) : rng.Next(bytes.Length);
            bytes[at] = (byte)rng.Next(256);
            var path = Path.Combine(dir, $"c{i}.pkl");
            File.WriteAllBytes(path, bytes);
            try { OfficialSnapshot.Read(path); }
            catch (AnyResException e)
            {
                Assert.DoesNotContain('\n', e.Message);
                refused++;
            }
        }
        Assert.True(refused > 0, "no corruption was detected at all");
    }
}
