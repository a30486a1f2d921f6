using System.Collections.Concurrent;

namespace AnyRes.Web;

/// <summary>
/// A fixed set of threads that run renders. A render must stay on one thread (TorchSharp's dispose scopes and no_grad are per
/// thread), and on the thread pool each new worker that renders gets its own glibc malloc arena, which keeps what it freed
/// (NativeSettings): RSS then grows with the number of distinct pool threads ever used. One thread per render slot keeps it flat.
/// </summary>
public sealed class RenderThreads : IDisposable
{
    readonly BlockingCollection<Action> work = new();

    public RenderThreads(int count)
    {
        for (int i = 0; i < count; i++)
            new Thread(() => { foreach (var item in work.GetConsumingEnumerable()) item(); }) { IsBackground = true, Name = $"anyres-render-{i}" }.Start();
    }

    public Task<T> Run<T>(Func<T> render, CancellationToken cancellation)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        work.Add(() =>
        {
            try { done.SetResult(render()); }
            catch (OperationCanceledException) { done.SetCanceled(cancellation); }
            catch (Exception e) { done.SetException(e); }
        });
        return done.Task;
    }

    public void Dispose() => work.CompleteAdding();
}
