using System.Reflection;
using System.Text;
using PktFlow.Datapath;
using PktFlow.Testing;

namespace PktFlow.Tests;

public class ArchitectureTests
{
    private static readonly Assembly Core = typeof(DatapathEngine).Assembly;

    [Fact]
    public void EngineDoesNotDependOnPowerShell()
    {
        var refs = Core.GetReferencedAssemblies().Select(a => a.Name).ToList();
        Assert.DoesNotContain("System.Management.Automation", refs);
        Assert.DoesNotContain("PktFlow.PowerShell", refs);
    }

    [Fact]
    public void OnlyCaptureCodeMayUseSharpPcap()
    {
        // SharpPcap is for live capture; everything else reads files without libpcap.
        var offenders = Core.GetTypes()
            .Where(t => t.Namespace is not null && !t.Namespace.StartsWith("PktFlow.Capture", StringComparison.Ordinal))
            .SelectMany(t => t.GetFields(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic).Select(f => (t, type: f.FieldType)))
            .Where(x => x.type.Assembly.GetName().Name is "SharpPcap")
            .Select(x => x.t.FullName)
            .ToList();
        Assert.Empty(offenders);
    }

    /// <summary>docs/stage-map.md lists every modelled kernel function; it must match the [KernelSymbol] attributes.</summary>
    [Fact]
    public void StageMapDocumentIsCurrent()
    {
        var path = Path.Combine(RepoPaths.Root, "docs", "stage-map.md");
        var expected = StageMap();
        if (Environment.GetEnvironmentVariable("PKTFLOW_WRITE_STAGE_MAP") == "1") File.WriteAllText(path, expected);
        Assert.True(File.Exists(path) && File.ReadAllText(path).ReplaceLineEndings("\n") == expected,
            "docs/stage-map.md is out of date: run the tests once with PKTFLOW_WRITE_STAGE_MAP=1 and commit it");
    }

    internal static string StageMap()
    {
        var rows = Core.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly)
                .SelectMany(m => m.GetCustomAttributes<KernelSymbolAttribute>().Select(a => (a.File, a.Function, Model: $"{t.Name}.{m.Name}", Folder: t.Namespace!.Replace("PktFlow.", "")))))
            .Distinct()
            .OrderBy(r => r.File, StringComparer.Ordinal).ThenBy(r => r.Function, StringComparer.Ordinal)
            .ToList();
        var sb = new StringBuilder();
        sb.Append("# Stage map\n\n");
        sb.Append("Generated from the `[KernelSymbol]` attributes (tests/PktFlow.Core.Tests/ArchitectureTests.cs): each kernel\n");
        sb.Append("function PktFlow models and the C# method that models it, so the code can be read next to the kernel source.\n\n");
        sb.Append("| Kernel file | Function | Modelled by |\n|---|---|---|\n");
        foreach (var r in rows) sb.Append($"| {r.File} | `{r.Function}` | {r.Folder}: `{r.Model}` |\n");
        return sb.ToString();
    }
}
