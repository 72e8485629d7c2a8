using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LlmCourse.Tests.Tokenizers;

/// <summary>
/// The reference for parity: js-tiktoken (pinned in tests/tokenizer-parity/package.json), run by
/// node on a batch of requests (see tests/tokenizer-parity/reference.mjs). Installs the package with
/// <c>npm ci</c> when it is missing; a test skips, saying why, where node or npm is absent.
/// </summary>
static class JsTiktoken
{
    static readonly Lazy<string?> unavailable = new(Prepare);

    public static string Folder => Path.Combine(RepoRoot(), "tests", "tokenizer-parity");

    /// <summary>Skips the calling test when the reference cannot run here.</summary>
    public static void RequireOrSkip()
    {
        if (unavailable.Value is { } why) Assert.Skip(why);
    }

    /// <summary>Runs the requests through js-tiktoken and returns one response object per request.</summary>
    public static JsonObject[] Run(IReadOnlyList<object> requests)
    {
        RequireOrSkip();
        var dir = Directory.CreateTempSubdirectory("llmcourse-parity-").FullName;
        try
        {
            var input = Path.Combine(dir, "requests.json");
            var output = Path.Combine(dir, "responses.json");
            File.WriteAllText(input, JsonSerializer.Serialize(requests));
            var (code, _, stderr) = Execute("node", Folder, TimeSpan.FromMinutes(5), Path.Combine(Folder, "reference.mjs"), input, output);
            if (code != 0) throw new InvalidOperationException($"node reference.mjs failed with exit code {code}:\n{stderr}");
            var responses = JsonNode.Parse(File.ReadAllText(output))!.AsArray().Select(n => n!.AsObject()).ToArray();
            Assert.Equal(requests.Count, responses.Length);
            return responses;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    public static int[] Tokens(JsonObject response) =>
        response["tokens"] is JsonArray tokens ? tokens.Select(t => t!.GetValue<int>()).ToArray()
            : throw new InvalidOperationException($"js-tiktoken gave no tokens: {response.ToJsonString()}");

    static string? Prepare()
    {
        if (!CanRun("node", "--version")) return "node is not installed, so js-tiktoken (the parity reference) cannot run";
        if (File.Exists(Path.Combine(Folder, "node_modules", "js-tiktoken", "package.json"))) return null;
        if (!CanRun("npm", "--version")) return "js-tiktoken is not installed in tests/tokenizer-parity and npm is not available to install it";
        var (code, stdout, stderr) = Execute("npm", RepoRoot(), TimeSpan.FromMinutes(5), "ci", "--prefix", Folder, "--no-audit", "--no-fund");
        return code == 0 ? null : $"npm ci --prefix tests/tokenizer-parity failed (exit code {code}), so js-tiktoken is missing:\n{stdout}\n{stderr}";
    }

    static bool CanRun(string program, string argument)
    {
        try
        {
            return Execute(program, RepoRoot(), TimeSpan.FromSeconds(30), argument).Code == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    static (int Code, string Stdout, string Stderr) Execute(string program, string workingDirectory, TimeSpan timeout, params string[] arguments)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {program}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish in {timeout}.");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "course.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("Could not find the repository root (the folder with course.sln) above " + AppContext.BaseDirectory);
    }
}
