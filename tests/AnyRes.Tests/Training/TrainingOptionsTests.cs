using AnyRes.Networks;
using System.Buffers.Binary;
using System.Text;
using AnyRes.Core;
using AnyRes.Training;

namespace AnyRes.Tests.Training;

public class TrainingOptionsTests
{
    [Fact]
    public void Defaults_are_train_py_and_the_paper_preset_is_train_sh()
    {
        var d = new TrainingOptions();
        Assert.Equal((0.002, 4, 25000.0, 4.0, 50, 3, TeacherMode.Forward, 1.0, 0.5, "ada"), (d.Dlr, d.MbstdGroup, d.Kimg, d.Tick, d.Snap, d.Workers, d.TeacherMode, d.TeacherLambda, d.BaseProbability, d.Aug));
        Assert.Equal(0.0025, d.GLearningRate);
        Assert.Equal(2, d.MappingDepth);

        var s2 = TrainingOptions.Preset("paper", TrainingMode.Patch);
        Assert.Equal((32, 4, 2.0, true, "noaug", 256, true), (s2.Batch, s2.BatchPerPass, s2.Gamma, s2.Mirror, s2.Aug, s2.Resolution, s2.RandomCrop));
        Assert.Equal((5.0, TeacherMode.Inverse, 0.5, 1, 8, true, "none"), (s2.TeacherLambda, s2.TeacherMode, s2.ScaleMax, s2.ScaleMappingMin, s2.ScaleMappingMax, s2.PatchCrop, s2.Metrics));
        Assert.Equal(10.0, s2.EmaKimg);
        Assert.Null(s2.ScaleMin);
        Assert.Equal(Math.Pow(0.5, 32 / 20e3), s2.MagnitudeEmaBeta);
    }

    [Fact]
    public void Options_round_trip_through_json_with_reference_names()
    {
        var o = TrainingOptions.Preset("tiny", TrainingMode.Patch) with { Data = "lr.zip", DataHr = "hr", Teacher = "t.safetensors", ScaleMin = 0.1 };
        var json = o.ToJson();
        Assert.Contains("\"data_hr\": \"hr\"", json);
        Assert.Contains("\"teacher_lambda\": 5", json);
        Assert.Contains("\"training_mode\": \"patch\"", json);
        Assert.Contains("\"teacher_mode\": \"inverse\"", json);
        Assert.Equal(o, TrainingOptions.FromJson(json, "x"));
        // Modes were strings before they were enums: files that spell the reference's values still read.
        var old = json.Replace("\"scale_mapping_norm\": \"positive\"", "\"scale_mapping_norm\": \"zerocentered\"");
        Assert.Equal(ScaleMappingNorm.ZeroCentered, TrainingOptions.FromJson(old, "x").ScaleMappingNorm);
    }

    [Fact]
    public void Validation_names_the_flag()
    {
        var o = TrainingOptions.Preset("paper", TrainingMode.Global) with { Data = "x" };
        o.Validate();
        Assert.Contains("--aug", Assert.Throws<AnyResException>(() => (o with { Aug = "ada" }).Validate()).Message);
        Assert.Contains("--batch-gpu", Assert.Throws<AnyResException>(() => (o with { BatchGpu = 2 }).Validate()).Message);
        Assert.Contains("--data-hr", Assert.Throws<AnyResException>(() => (o with { TrainingMode = TrainingMode.Patch }).Validate()).Message);
        Assert.Equal("global-x-256-batch32-gamma2", o.RunDescription());
    }

    [Fact]
    public void Tensorboard_records_have_lengths_and_masked_crc32c()
    {
        Assert.Equal(0xE3069283u, TensorBoardWriter.Crc32C(Encoding.ASCII.GetBytes("123456789")));   // the CRC-32C check value
        var dir = Directory.CreateTempSubdirectory("anyres-tb").FullName;
        string path;
        using (var w = new TensorBoardWriter(dir))
        {
            w.AddScalars(12, 1.5, new[] { KeyValuePair.Create("Loss/G/loss", 0.25) });
            path = w.Path;
        }
        var bytes = File.ReadAllBytes(path);
        var records = new List<byte[]>();
        for (int at = 0; at < bytes.Length;)
        {
            var len = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at));
            Assert.Equal(TensorBoardWriter.MaskedCrc(bytes.AsSpan(at, 8)), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 8)));
            var data = bytes.AsSpan(at + 12, len).ToArray();
            Assert.Equal(TensorBoardWriter.MaskedCrc(data), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 12 + len)));
            records.Add(data);
            at += 16 + len;
        }
        Assert.Equal(2, records.Count);
        Assert.Contains("brain.Event:2", Encoding.ASCII.GetString(records[0]));
        var scalar = records[1];
        Assert.Contains("Loss/G/loss", Encoding.ASCII.GetString(scalar));
        int tag = Array.IndexOf(scalar, (byte)0x15);                                             // Value.simple_value: field 2, fixed32
        Assert.Equal(0.25f, BitConverter.ToSingle(scalar, tag + 1));
        Assert.Equal(12, scalar[Array.IndexOf(scalar, (byte)0x10) + 1]);                           // Event.step: field 2, varint
    }
}

[Collection("Console")]
public class TrainCommandTests
{
    [Fact]
    public void Dry_run_prints_the_preset_with_flags_applied()
    {
        var root = new System.CommandLine.RootCommand();
        root.Options.Add(AnyRes.Cli.CliCommon.DeviceOption);
        root.Subcommands.Add(AnyRes.Cli.Commands.TrainCommand.Create());
        var previous = Console.Out;
        var captured = new StringWriter();
        int rc;
        Console.SetOut(captured);
        try { rc = AnyRes.Cli.CliCommon.Invoke(root, new[] { "train", "patch", "--preset", "tiny", "--data", "lr", "--data_hr", "hr", "--teacher-lambda", "3", "--mirror", "0", "--dry-run" }); }
        finally { Console.SetOut(previous); }
        Assert.Equal(0, rc);
        var text = captured.ToString();
        var o = TrainingOptions.FromJson(text[text.IndexOf('{')..(text.LastIndexOf('}') + 1)], "dry run");
        Assert.Equal(TrainingOptions.Preset("tiny", TrainingMode.Patch) with { Data = "lr", DataHr = "hr", TeacherLambda = 3, Mirror = false }, o);
    }

    static (int Code, string Out, string Err) Train(params string[] args) => CliRunner.Run([AnyRes.Cli.Commands.TrainCommand.Create()], args);

    [Fact]
    public void Scale_conditioning_and_ema_are_flags_and_the_cpu_preset_is_valid()
    {
        var (rc, text, _) = Train("train", "patch", "--preset", "cpu", "--data", "lr", "--data-hr", "hr", "--scale-conditioning", "log-zoom", "--ema", "0.5", "--dry-run");
        Assert.Equal(0, rc);
        Assert.Contains("\"scale_conditioning\": \"log_zoom\"", text);
        var o = TrainingOptions.FromJson(text[text.IndexOf('{')..(text.LastIndexOf('}') + 1)], "dry run");
        Assert.Equal((AnyRes.Networks.ScaleConditioning.LogZoom, 0.5, 0.5), (o.ScaleConditioning, o.Ema, o.EmaKimg));
        o.Validate();
        Assert.Equal(AnyRes.Networks.ScaleConditioning.LogZoom, TrainingOptions.FromJson(o.ToJson(), "x").ScaleConditioning);

        var cpu = TrainingOptions.Preset("cpu", TrainingMode.Global) with { Data = "x" };
        cpu.Validate();
        Assert.Equal((64, 4, AnyRes.Networks.ScaleConditioning.Parity), (cpu.Resolution, cpu.Batch, cpu.ScaleConditioning));

        var (bad, _, err) = Train("train", "patch", "--preset", "cpu", "--data", "lr", "--data-hr", "hr", "--scale-conditioning", "loud", "--dry-run");
        Assert.Equal(AnyRes.Cli.CliCommon.UserError, bad);
        Assert.Equal("error: --scale-conditioning loud: expected parity|log-zoom", err.Trim());
        var (badEma, _, emaErr) = Train("train", "global", "--preset", "cpu", "--data", "lr", "--ema", "0", "-n");
        Assert.Equal(0, badEma);   // a dry run prints without validating, as before
        Assert.Contains("--ema 0", Assert.Throws<AnyResException>(() => (cpu with { Ema = 0 }).Validate()).Message);
        Assert.Empty(emaErr);
    }
}
