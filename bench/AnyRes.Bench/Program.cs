using AnyRes.Bench;

// One benchmark per first argument; each prints its figure and the settings that produced it.
var benches = new Dictionary<string, Func<string[], int>>
{
    ["loader"] = LoaderBench.Run,
    ["features"] = FeaturesBench.Run,
    ["render"] = RenderBench.Run,
    ["train"] = TrainBench.Run,
    ["generator"] = GeneratorBench.Run,
    ["viewer"] = ViewerBench.Run,
    ["fuzz"] = FuzzBench.Run,
    ["soak"] = SoakBench.Run,
    ["memory"] = MemoryBench.Run,
};
if (args.Length == 0 || !benches.TryGetValue(args[0], out var bench))
{
    Console.Error.WriteLine($"usage: AnyRes.Bench <{string.Join("|", benches.Keys)}> [options]");
    return 2;
}
return bench(args[1..]);
