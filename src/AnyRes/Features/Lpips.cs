using AnyRes.Ops;
using AnyRes.Core;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AnyRes.Features;

/// <summary>
/// LPIPS v0.1 with the AlexNet trunk (spec §13.10), spatial=True, eval mode. Weights come from a safetensors file with the
/// key names of <c>lpips.LPIPS(net='alex').state_dict()</c>:
/// <c>net.slice1.0.{weight,bias}</c> (conv 11×11/4, 64), <c>net.slice2.3.*</c> (5×5, 192), <c>net.slice3.6.*</c> (3×3, 384),
/// <c>net.slice4.8.*</c> (3×3, 256), <c>net.slice5.10.*</c> (3×3, 256), <c>lin0.model.1.weight</c> … <c>lin4.model.1.weight</c>
/// ([1,C,1,1], no bias); <c>scaling_layer.shift</c>/<c>scaling_layer.scale</c> are optional (LPIPS's constants otherwise).
/// Other keys are an error.
/// </summary>
public sealed class LpipsAlex : nn.Module, IPerceptualDistance
{
    // (slice, torchvision AlexNet feature index, kernel, stride, padding, max-pool before the conv)
    static readonly (int slice, int index, long kernel, long stride, long padding, bool pool)[] Convs =
        [(1, 0, 11, 4, 2, false), (2, 3, 5, 1, 2, true), (3, 6, 3, 1, 1, true), (4, 8, 3, 1, 1, false), (5, 10, 3, 1, 1, false)];

    // LPIPS ScalingLayer constants: (x − shift) / scale.
    static readonly float[] Shift = [-.030f, -.088f, -.188f], Scale = [.458f, .448f, .450f];

    readonly Dictionary<string, Tensor> weights;

    public string Name => "lpips-alex";

    LpipsAlex(Dictionary<string, Tensor> weights) : base("lpips")
    {
        this.weights = weights;
        foreach (var (k, t) in weights) register_buffer(k.Replace('.', '_'), t);
    }

    public static IEnumerable<string> ExpectedKeys(bool withScaling) =>
        Convs.SelectMany(c => new[] { $"net.slice{c.slice}.{c.index}.weight", $"net.slice{c.slice}.{c.index}.bias" })
             .Concat(Enumerable.Range(0, 5).Select(i => $"lin{i}.model.1.weight"))
             .Concat(withScaling ? ["scaling_layer.shift", "scaling_layer.scale"] : []);

    public static LpipsAlex Load(string path, Device device) => FromState(SafetensorsFile.Read(path).Tensors, device, path);

    /// <summary>Builds the network from a state dict (tensors are copied); errors name <paramref name="source"/>.</summary>
    public static LpipsAlex FromState(IReadOnlyDictionary<string, Tensor> state, Device device, string source)
    {
        bool scaling = state.ContainsKey("scaling_layer.shift");
        var expected = ExpectedKeys(scaling).ToList();
        var missing = expected.Where(k => !state.ContainsKey(k)).ToList();
        var unexpected = state.Keys.Where(k => !expected.Contains(k)).ToList();
        if (missing.Count + unexpected.Count > 0)
            throw AnyResException.ForFile(source, $"not LPIPS-AlexNet weights (missing: {string.Join(", ", missing)}; unexpected: {string.Join(", ", unexpected)})");
        long cin = 3;
        var w = new Dictionary<string, Tensor>();
        for (int i = 0; i < Convs.Length; i++)
        {
            var (s, idx, k, _, _, _) = Convs[i];
            var cw = state[$"net.slice{s}.{idx}.weight"];
            long cout = cw.shape[0];
            Check(source, $"net.slice{s}.{idx}.weight", cw, [cout, cin, k, k]);
            Check(source, $"net.slice{s}.{idx}.bias", state[$"net.slice{s}.{idx}.bias"], [cout]);
            Check(source, $"lin{i}.model.1.weight", state[$"lin{i}.model.1.weight"], [1, cout, 1, 1]);
            cin = cout;
        }
        foreach (var key in expected)
            w[key] = state[key].to(float32).to(device).detach().clone().DetachFromDisposeScope();
        if (!scaling)
        {
            w["scaling_layer.shift"] = torch.tensor(Shift, device: device).view(1, 3, 1, 1).DetachFromDisposeScope();
            w["scaling_layer.scale"] = torch.tensor(Scale, device: device).view(1, 3, 1, 1).DetachFromDisposeScope();
        }
        else
        {
            Check(source, "scaling_layer.shift", w["scaling_layer.shift"], [1, 3, 1, 1]);
            Check(source, "scaling_layer.scale", w["scaling_layer.scale"], [1, 3, 1, 1]);
        }
        return new LpipsAlex(w);
    }

    static void Check(string source, string key, Tensor t, long[] shape)
    {
        if (!t.shape.SequenceEqual(shape))
            throw AnyResException.ForFile(source, $"tensor '{key}' has shape [{string.Join(",", t.shape)}], expected [{string.Join(",", shape)}]");
    }

    /// <summary>The five AlexNet activations (after ReLU1…ReLU5) of scaled inputs.</summary>
    public Tensor[] Features(Tensor x)
    {
        var h = (x - weights["scaling_layer.shift"]) / weights["scaling_layer.scale"];
        var outs = new Tensor[Convs.Length];
        for (int i = 0; i < Convs.Length; i++)
        {
            var (s, idx, _, stride, padding, pool) = Convs[i];
            if (pool) h = F.max_pool2d(h, kernel_size: 3, stride: 2);
            h = F.relu(GemmConv2d.Apply(h, weights[$"net.slice{s}.{idx}.weight"], weights[$"net.slice{s}.{idx}.bias"], (int)stride, (int)padding, (int)padding));
            outs[i] = h;
        }
        return outs;
    }

    public Tensor Map(Tensor x, Tensor y)
    {
        Shapes.Assert(x, y.shape);
        using var scope = NewDisposeScope();
        long b = x.shape[0];
        var feats = Features(torch.cat([x, y]));
        Tensor? sum = null;
        for (int i = 0; i < feats.Length; i++)
        {
            var u = PerceptualDistance.UnitNormalize(feats[i]);
            var d = (u[..(int)b] - u[(int)b..]).square();
            var m = PerceptualDistance.Upsample(GemmConv2d.Apply(d, weights[$"lin{i}.model.1.weight"]), x.shape[2], x.shape[3]);
            sum = sum is null ? m : sum + m;
        }
        return sum!.MoveToOuterDisposeScope();
    }

    public Tensor Distance(Tensor x, Tensor y)
    {
        using var map = Map(x, y);
        return map.mean([1, 2, 3]);
    }
}
