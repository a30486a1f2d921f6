namespace AnyRes.Tests;

/// <summary>
/// Tests that measure or change process-wide state (resident memory, the GC's no-GC region) run here: xunit runs this
/// collection after the parallel ones, with nothing beside it.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public class AloneCollection
{
    public const string Name = "Alone";
}
