using LlmCourse.Bench;

// `dotnet run -c Release --project bench/LlmCourse.Bench -- NAME [options]`
// Each benchmark measures our code and its anchor in the same run and ends with the line
// `NAME: ratio R (ours X, anchor Y, UNIT)`, where R > 1 means we are faster.
var benchmarks = Benchmark.Discover();
if (args.Length == 0 || args[0] is "-h" or "--help" or "list")
{
    Console.WriteLine("usage: LlmCourse.Bench NAME [--threads N] [options]");
    Console.WriteLine("benchmarks:");
    foreach (var b in benchmarks.OrderBy(b => b.Name))
        Console.WriteLine($"  {b.Name,-16} {b.Description}");
    return args.Length == 0 ? 1 : 0;
}

var benchmark = benchmarks.FirstOrDefault(b => b.Name == args[0]);
if (benchmark is null)
{
    Console.Error.WriteLine($"No benchmark named '{args[0]}'. Known: {string.Join(", ", benchmarks.Select(b => b.Name).Order())}.");
    return 2;
}

var options = BenchOptions.Parse(args.Skip(1).ToArray());
var result = benchmark.Run(options);
Console.WriteLine(result.ToString());
return 0;
