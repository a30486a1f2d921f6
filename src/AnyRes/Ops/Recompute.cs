using TorchSharp;
using static TorchSharp.torch;

namespace AnyRes.Ops;

/// <summary>
/// Activation checkpointing for a function that treats every sample of its batched inputs independently (a synthesis
/// layer): the forward runs without recording and keeps only the inputs; backward runs the function again with autograd,
/// a few samples at a time, so at most one chunk of one layer's intermediates exists at once. This trades one extra
/// forward for the memory of the whole recorded graph (SG3-T 256 at batch 4 needs over 24 GB without it).
/// </summary>
public static class Recompute
{
    /// <summary>
    /// The functions recomputed in one backward pass: each backward releases the gradients the previous one returned
    /// (autograd holds its own references by then), so a chain of layers never keeps more than one layer's input gradients.
    /// </summary>
    public sealed class Chain
    {
        readonly List<Tensor> _returned = new();

        internal void Release()
        {
            foreach (var t in _returned) t.Dispose();
            _returned.Clear();
        }

        internal void Hold(IEnumerable<Tensor?> tensors) => _returned.AddRange(tensors.Where(t => t is not null)!);
    }

    /// <summary>Samples per recomputation chunk in backward: about this many elements of the layer's largest intermediate.</summary>
    public const long ChunkElements = 1L << 25;

    /// <summary>
    /// A sample-wise layer f(x, w[, scale]) recorded for autograd by its inputs only; backward recomputes it in chunks of
    /// about <see cref="ChunkElements"/> elements of its largest intermediate (<paramref name="elementsPerSample"/>).
    /// </summary>
    public static Tensor Layer(Func<Tensor, Tensor, Tensor?, Tensor> f, Tensor x, Tensor w, Tensor? scale, IEnumerable<Tensor> parameters,
                               long elementsPerSample, Chain chain)
    {
        var batched = scale is null ? new[] { x, w } : new[] { x, w, scale };
        return Apply(t => f(t[0], t[1], t.Length > 2 ? t[2] : null), batched, parameters.ToArray(), Math.Max(1, ChunkElements / elementsPerSample), chain);
    }

    /// <summary>
    /// f(batched) with gradients flowing to every batched input and to <paramref name="parameters"/> (the tensors f reads
    /// besides its inputs). f must be deterministic and must not update state (EMAs) — it runs again in backward.
    /// </summary>
    public static Tensor Apply(Func<Tensor[], Tensor> f, Tensor[] batched, IReadOnlyList<Tensor> parameters, long chunkSamples, Chain chain)
    {
        if (chunkSamples < 1) throw new ArgumentOutOfRangeException(nameof(chunkSamples));
        if (!is_grad_enabled() || !(batched.Any(t => t.requires_grad) || parameters.Any(p => p.requires_grad)))
            return f(batched);
        // TorchSharp caches an uninitialised tensor the size of the output per node, only to materialise missing output
        // gradients (disabled below); created in this scope, it is released at once instead of living as long as the graph.
        using var scope = NewDisposeScope();
        var call = new Call(f, batched.Length, parameters, chunkSamples, chain);
        return Function.apply(new object[] { call }.Concat(batched).Concat(parameters).ToArray()).MoveToOuterDisposeScope();
    }

    sealed record Call(Func<Tensor[], Tensor> F, int BatchedCount, IReadOnlyList<Tensor> Parameters, long ChunkSamples, Chain Chain);

    sealed class Function : autograd.SingleTensorFunction<Function>
    {
        public override string Name => nameof(Recompute);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var call = (Call)vars[0];
            var batched = vars.Skip(1).Take(call.BatchedCount).Cast<Tensor>().ToArray();
            ctx.save_for_backward(batched.ToList());
            ctx.save_data(nameof(Call), call);
            ctx.set_materialize_grads(false);
            return call.F(batched);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            var call = (Call)ctx.get_data(nameof(Call));
            call.Chain.Release();
            var batched = ctx.get_saved_variables();
            var result = new List<Tensor> { null! };
            if (gradOutput is null || gradOutput.IsInvalid)   // the output did not reach the loss
            {
                result.AddRange(Enumerable.Repeat<Tensor>(null!, batched.Count + call.Parameters.Count));
                return result;
            }
            long n = batched[0].shape[0];
            var needs = batched.Select(t => t.requires_grad).ToArray();
            var batchedGrads = batched.Select(_ => new List<Tensor>()).ToArray();
            var paramGrads = new Tensor?[call.Parameters.Count];
            using (enable_grad())
            {
                for (long start = 0; start < n; start += call.ChunkSamples)
                {
                    long end = Math.Min(n, start + call.ChunkSamples);
                    using var scope = NewDisposeScope();
                    var inputs = batched.Select((t, i) => t.narrow(0, start, end - start).detach().requires_grad_(needs[i])).ToArray();
                    var targets = inputs.Where(t => t.requires_grad).Concat(call.Parameters.Where(p => p.requires_grad)).ToArray();
                    var y = call.F(inputs);
                    var g = autograd.grad(new[] { y }, targets, new[] { gradOutput.narrow(0, start, end - start) }, allow_unused: true);
                    int k = 0;
                    for (int i = 0; i < inputs.Length; i++)
                        if (needs[i]) batchedGrads[i].Add(g[k++].MoveToOuterDisposeScope());
                    for (int p = 0; p < paramGrads.Length; p++)
                    {
                        if (!call.Parameters[p].requires_grad) continue;
                        var gp = g[k++];
                        if (gp is null || gp.IsInvalid) continue;
                        paramGrads[p] = paramGrads[p] is { } acc ? acc.add_(gp) : gp.MoveToOuterDisposeScope();
                    }
                }
            }
            foreach (var t in batched) t.Dispose();
            for (int i = 0; i < batched.Count; i++)
                result.Add(needs[i] ? Concat(batchedGrads[i]) : null!);
            result.AddRange(paramGrads.Select(p => p!));
            call.Chain.Hold(result);
            return result;
        }

        static Tensor Concat(List<Tensor> parts)
        {
            if (parts.Count == 1) return parts[0];
            var whole = cat(parts, 0);
            foreach (var p in parts) p.Dispose();
            return whole;
        }
    }
}
