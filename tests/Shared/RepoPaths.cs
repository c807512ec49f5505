using System.Runtime.CompilerServices;

namespace PktFlow.Testing;

/// <summary>
/// Where the repository and the shared conformance corpora are, for tests whose binaries may live
/// anywhere (--artifacts-path): PKTFLOW_REPO_ROOT, else the first folder holding PktFlow.sln above
/// this source file, the test binaries or the current directory.
/// </summary>
public static class RepoPaths
{
    public static string Root { get; } = Find();

    /// <summary>../shared/conformance, read in place (never copied into the repo).</summary>
    public static string Conformance => Path.GetFullPath(Path.Combine(Root, "..", "shared", "conformance"));

    public static string Captures => Path.Combine(Root, "captures");

    private static string Find([CallerFilePath] string sourceFile = "")
    {
        if (Environment.GetEnvironmentVariable("PKTFLOW_REPO_ROOT") is { Length: > 0 } env) return env;
        foreach (var start in new[] { Path.GetDirectoryName(sourceFile), AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = start is null ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "PktFlow.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("cannot find the repository root (PktFlow.sln); set PKTFLOW_REPO_ROOT");
    }
}
