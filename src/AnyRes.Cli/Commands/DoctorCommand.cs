using System.CommandLine;
using AnyRes.Core;
using TorchSharp;

namespace AnyRes.Cli.Commands;

public static class DoctorCommand
{
    public static Command Create()
    {
        var command = new Command("doctor", "Print .NET, TorchSharp and libtorch versions, the device, threads and whether the libstdc++ repair was applied; run a small conv2d forward and backward.");
        command.SetAction(CliCommon.Action(result =>
        {
            var device = CliCommon.Device(result);
            foreach (var (name, value) in TorchRuntime.Describe(device)) Console.WriteLine($"{name,-26} {value}");
            using var scope = torch.NewDisposeScope();
            var x = torch.randn(2, 3, 16, 16, device: device);
            var w = torch.randn(4, 3, 3, 3, device: device, requires_grad: true);
            var y = torch.nn.functional.conv2d(x, w, padding: new long[] { 1, 1 });
            y.square().sum().backward();
            bool ok = w.grad is not null && torch.isfinite(w.grad).all().item<bool>();
            Console.WriteLine($"{"conv2d forward+backward",-26} {(ok ? "ok" : "FAILED")}");
            return ok ? 0 : 1;
        }));
        return command;
    }
}
