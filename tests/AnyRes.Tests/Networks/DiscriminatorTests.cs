using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AnyRes.Core;
using AnyRes.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Tests.Networks;

public class DiscriminatorTests
{
    // Fixture README: the discriminator (double backward) at the full-network tolerance; per-module outputs are tighter.
    const double Atol = 1e-4, Rtol = 1e-3;

    static Discriminator Build(Fixture f)
    {
        var D = new Discriminator(DiscriminatorOptions.FromReference(f.Args));
        NetworkCheckpoint.LoadStrict(f.Name, f.State(), [("", D)]);
        return D;
    }

    /// <summary>Logits, R1 (gradients, penalty, loss) and its double-backward parameter gradients, the real loss and its gradients.</summary>
    static void CheckAgainstReference(Fixture f)
    {
        using var scope = NewDisposeScope();
        var D = Build(f);
        var c = f.Has("in.c") ? f["in.c"] : null;
        var img = f["in.img"].detach().requires_grad_(true);

        var logits = D.forward(img, c);
        Close.Assert(logits, f["out.logits"], Atol, Rtol, "logits");

        // R1 as training does it (torchsharp note 4): gradient of the summed logits w.r.t. the image, kept differentiable.
        var r1Grads = torch.autograd.grad([logits.sum()], [img], retain_graph: true, create_graph: true)[0];
        var r1Penalty = r1Grads.square().sum([1, 2, 3]);
        var gamma = Gamma(f);
        var lossR1 = (r1Penalty * (gamma / 2)).mean();
        Close.Assert(r1Grads, f["out.r1_grads"], Atol, Rtol, "r1_grads");
        Close.Assert(r1Penalty, f["out.r1_penalty"], Atol, Rtol, "r1_penalty");
        Close.Assert(lossR1, f["out.loss_r1"], Atol, Rtol, "loss_r1");

        var parameters = D.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        CheckParameterGradients(f, "grad_r1.", lossR1, parameters);

        var lossReal = nn.functional.softplus(-logits).mean();
        Close.Assert(lossReal, f["out.loss_real"], Atol, Rtol, "loss_real");
        CheckParameterGradients(f, "grad_real.", lossReal, parameters, img);
    }

    /// <summary>The R1 weight, recorded only in the fixture's description ("... gamma/2) with gamma=2.0").</summary>
    static double Gamma(Fixture f)
    {
        var m = Regex.Match((string?)f.Meta["description"] ?? "", $@"\bgamma\s*=\s*({Fixture.Number})");
        Assert.True(m.Success, $"{f.Name}: no gamma=<value> in the fixture's description");
        return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    static void CheckParameterGradients(Fixture f, string prefix, Tensor loss, Dictionary<string, Tensor> parameters, Tensor? img = null)
    {
        var names = f.Names(prefix).ToList();
        Assert.NotEmpty(names);
        var inputs = names.Select(n => n == "img" ? img ?? throw new KeyNotFoundException($"{prefix}img") : parameters[n]).ToArray();
        var grads = torch.autograd.grad([loss], inputs, retain_graph: true, allow_unused: true);
        for (int i = 0; i < names.Count; i++)
        {
            var g = grads[i] is { IsInvalid: false } t ? t : zeros_like(inputs[i]);
            Close.Assert(g, f[prefix + names[i]], Atol, Rtol, prefix + names[i]);
        }
    }

    [Fact, Trait("Category", "Parity")]
    public void MatchesReferenceIncludingR1DoubleBackward()
    {
        using var f = Fixture.Load("discriminator_tiny.safetensors");
        CheckAgainstReference(f);
    }

    [Fact]
    public void ConditionalProjectionMatchesReference()
    {
        using var f = Fixture.LoadExtra("discriminator_cond.safetensors");
        Assert.True(f.Args["c_dim"]!.GetValue<int>() > 0);
        CheckAgainstReference(f);
    }

    [Fact]
    public void StateDictKeysAndShapesAreTheReferences()
    {
        using var scope = NewDisposeScope();
        using var f = Fixture.Load("discriminator_tiny.safetensors");
        var expected = f.State().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var actual = new Discriminator(DiscriminatorOptions.FromReference(f.Args)).state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (k, shape) in expected) Assert.Equal(shape, actual[k]);
    }

    [Fact]
    public void ChannelScheduleFollowsSpecAt256()
    {
        // Spec 13.8, R = 256: 256→128 channels, 128→256, 64...4→512.
        var o = DiscriminatorOptions.For(256);
        Assert.Equal([256, 128, 64, 32, 16, 8], o.BlockResolutions());
        Assert.Equal([128, 256, 512, 512, 512, 512, 512], new[] { 256, 128, 64, 32, 16, 8, 4 }.Select(o.Channels));
    }

    [Fact]
    public void FreezeDKeepsTheFirstLayersOutOfTheParameters()
    {
        using var scope = NewDisposeScope();
        var o = new DiscriminatorOptions { ImgResolution = 16, ChannelBase = 64, ChannelMax = 8, FreezeLayers = 3 };
        var D = new Discriminator(o);
        var parameters = D.named_parameters().Select(p => p.name).ToHashSet();
        // b16 has fromrgb, conv0, conv1 (layers 0-2, frozen) and skip (layer 3, trainable).
        Assert.DoesNotContain("b16.fromrgb.weight", parameters);
        Assert.DoesNotContain("b16.conv1.bias", parameters);
        Assert.Contains("b16.skip.weight", parameters);
        Assert.Contains("b8.conv0.weight", parameters);
        Assert.Contains("b16.conv1.weight", D.state_dict().Keys);
    }
}
