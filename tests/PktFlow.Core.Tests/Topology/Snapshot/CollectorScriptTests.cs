using System.Diagnostics;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Topology.Snapshot;

namespace PktFlow.Tests.Topology.Snapshot;

/// <summary>Runs only where the collector can: Linux with dash (the strictest common /bin/sh) and iproute2.</summary>
public sealed class CollectorFactAttribute : FactAttribute
{
    public CollectorFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = "the collector is for Linux";
        else if (CollectorRun.Which("dash") is null) Skip = "dash is not installed";
        else if (CollectorRun.Which("ip") is null) Skip = "iproute2 (ip) is not installed";
    }
}

/// <summary>Builds real namespaces: Linux, root, and the tools lab.sh uses.</summary>
public sealed class LiveNamespacesFactAttribute : FactAttribute
{
    public LiveNamespacesFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = "needs Linux network namespaces";
        else if (Environment.UserName != "root") Skip = "needs root to build network namespaces";
        else if (new[] { "dash", "ip", "nft", "iptables", "bridge", "sysctl" }.FirstOrDefault(t => CollectorRun.Which(t) is null) is { } missing)
            Skip = $"{missing} is not installed";
    }
}

internal static class CollectorRun
{
    public static string Script => Path.Combine(RepoPaths.Root, "scripts", "pktflow-collect.sh");

    public static string? Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':').Append("/usr/sbin").Append("/sbin")
            .Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);

    public static (int Exit, string Out, string Err) Run(string file, IEnumerable<string> args, string? path = null, string? stdin = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (path is not null) psi.Environment["PATH"] = path;
        using var p = Process.Start(psi)!;
        if (stdin is not null) { p.StandardInput.Write(stdin); p.StandardInput.Close(); }
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(entireProcessTree: true); throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in 120 s"); }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    public static (int Exit, string Out, string Err) Collect(params string[] args) => Run(Which("dash")!, args.Prepend(Script));
}

public sealed class CollectorScriptTests : IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), "pktflow-collect-test-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { if (Directory.Exists(_out)) Directory.Delete(_out, recursive: true); } catch (IOException) { }
    }

    [CollectorFact]
    public void HelpIsPrintedUnderDash()
    {
        var (exit, stdout, _) = CollectorRun.Collect("-h");
        Assert.Equal(0, exit);
        Assert.StartsWith("Usage: pktflow-collect.sh [-o DIR] [-p PREFIX]... [-H] [-h]", stdout);
    }

    [CollectorFact]
    public void TheScriptIsPosixSh()
    {
        var (exit, _, stderr) = CollectorRun.Run(CollectorRun.Which("dash")!, ["-n", CollectorRun.Script]);
        Assert.True(exit == 0, stderr);
    }

    [CollectorFact]
    public void UnknownOptionsAreRefused()
    {
        var (exit, _, stderr) = CollectorRun.Collect("--everything");
        Assert.Equal(1, exit);
        Assert.Contains("pktflow-collect: unknown argument '--everything'", stderr);
    }

    [CollectorFact]
    public void ANonEmptyOutputFolderIsRefused()
    {
        Directory.CreateDirectory(_out);
        File.WriteAllText(Path.Combine(_out, "x"), "");
        var (exit, _, stderr) = CollectorRun.Collect("-o", _out, "-H");
        Assert.Equal(1, exit);
        Assert.Contains($"{_out} exists and is not empty", stderr);
    }

    [CollectorFact]
    public void APrefixThatMatchesNothingGivesACompleteEmptySnapshot()
    {
        var (exit, _, stderr) = CollectorRun.Collect("-o", _out, "-H", "-p", "pfsnap-none-" + Guid.NewGuid().ToString("N"));
        Assert.True(exit == 0, stderr);
        var manifest = File.ReadAllLines(Path.Combine(_out, "manifest.txt"));
        Assert.Contains("host: left out (-H)", manifest);
        Assert.Contains("complete: 0 files, 0 skipped, 0 failed", manifest);
        var e = Assert.Throws<SnapshotException>(() => SnapshotLoader.Load(_out));
        Assert.Equal("manifest.txt: the snapshot holds no namespace (did -p match none, with -H?)", e.Message);
    }

    [CollectorFact]
    public void MissingToolsAreSkippedAndNamedInTheManifest()
    {
        // A PATH with the collector's basic tools, ip, ss and sysctl, but no nft, bridge or iptables.
        var bin = Path.Combine(_out + "-bin");
        Directory.CreateDirectory(bin);
        try
        {
            foreach (var tool in new[] { "dash", "sh", "hostname", "uname", "date", "id", "mkdir", "mktemp", "ls", "rm", "head", "sed", "sort", "grep", "tr", "cat", "ip", "ss", "sysctl" })
                if (CollectorRun.Which(tool) is { } real) File.CreateSymbolicLink(Path.Combine(bin, tool), real);
            // Only the collector's own namespace: -p with a prefix no namespace has.
            var (exit, _, stderr) = CollectorRun.Run(Path.Combine(bin, "dash"),
                [CollectorRun.Script, "-o", _out, "-p", "pfsnap-none-" + Guid.NewGuid().ToString("N")], path: bin);
            Assert.True(exit == 0, stderr);
            var manifest = File.ReadAllLines(Path.Combine(_out, "manifest.txt"));
            Assert.Contains("tool: nft: not installed", manifest);
            Assert.Contains("skipped: host/nft.json: nft not installed", manifest);
            Assert.Contains("skipped: host/fdb.json: bridge not installed", manifest);
            Assert.Contains("skipped: host/iptables.txt: iptables-save not installed", manifest);
            Assert.Contains(manifest, l => l.StartsWith("complete: ", StringComparison.Ordinal));
            Assert.True(File.Exists(Path.Combine(_out, "host", "route4.json")));
            var t = SnapshotLoader.Load(_out);
            Assert.Equal(["host"], t.Namespaces.Select(n => n.Name));
            Assert.Contains("host/nft.json: not in the snapshot (skipped: nft not installed); what it holds is unknown to the model", t.Warnings);
            Assert.Contains(t.Host.Devices, d => d.IsLoopback);
        }
        finally
        {
            Directory.Delete(bin, recursive: true);
        }
    }

    /// <summary>
    /// lab.sh built for real under fresh names, collected, and read back: the same checks as the
    /// committed snapshot, on whatever kernel and iproute2 this machine has.
    /// </summary>
    [LiveNamespacesFact]
    public void ALiveSnapshotOfTheLabAgreesWithTheLab()
    {
        var prefix = $"pfsnap-{Environment.ProcessId:x}{Random.Shared.Next(0x1000):x3}-";
        var lab = File.ReadAllText(Path.Combine(SnapshotLoaderTests.Folder, "lab.sh")).Replace("pfsnap-", prefix);
        var dash = CollectorRun.Which("dash")!;
        var ip = CollectorRun.Which("ip")!;
        var script = _out + "-lab.sh";
        File.WriteAllText(script, lab);
        try
        {
            var (exit, _, stderr) = CollectorRun.Run(dash, ["-e", script]);
            Assert.True(exit == 0, "lab.sh failed: " + stderr);
            for (int i = 0; i < 50 && new[] { "r", "c" }.Any(role => CollectorRun.Run(ip, ["-n", prefix + role, "addr"]).Out.Contains("tentative")); i++)
                Thread.Sleep(200);
            (exit, _, stderr) = CollectorRun.Collect("-o", _out, "-H", "-p", prefix);
            Assert.True(exit == 0, stderr);
        }
        finally
        {
            foreach (var role in new[] { "r", "c" }) CollectorRun.Run(ip, ["netns", "del", prefix + role]);
            File.Delete(script);
        }
        var snapshot = SnapshotLoader.Load(_out);
        Assert.Empty(snapshot.Warnings);
        var model = LabLoader.Load(lab, "lab.sh");
        foreach (var role in new[] { "r", "c" })
            SnapshotLoaderTests.AssertLabAgrees(snapshot, model, prefix + role, role);
    }

    /// <summary>
    /// TestData/snapshot-tunnel/lab.sh (vxlan devices with their FDB, macvlans, one moved to another
    /// namespace) built for real under fresh names, collected and read back: the lab loader's model again.
    /// </summary>
    [LiveNamespacesFact]
    public void ALiveSnapshotOfTheTunnelLabAgreesWithTheLab()
    {
        var prefix = $"snaptun-{Environment.ProcessId:x}{Random.Shared.Next(0x1000):x3}-";
        var lab = File.ReadAllText(Path.Combine(SnapshotTunnelTests.Folder, "lab.sh")).Replace("snaptun-", prefix);
        string[] roles = ["h", "n2", "p1", "p2", "m"];
        var ip = CollectorRun.Which("ip")!;
        var script = _out + "-lab.sh";
        File.WriteAllText(script, lab);
        try
        {
            var (exit, _, stderr) = CollectorRun.Run(CollectorRun.Which("dash")!, ["-e", script]);
            Assert.True(exit == 0, "lab.sh failed: " + stderr);
            (exit, _, stderr) = CollectorRun.Collect("-o", _out, "-H", "-p", prefix);
            Assert.True(exit == 0, stderr);
        }
        finally
        {
            foreach (var role in roles) CollectorRun.Run(ip, ["netns", "del", prefix + role]);
            File.Delete(script);
        }
        var snapshot = SnapshotLoader.Load(_out);
        Assert.Empty(snapshot.Warnings);
        var model = LabLoader.Load(lab, "lab.sh");
        foreach (var role in roles) SnapshotTunnelTests.AssertTunnelsAgree(snapshot, model, prefix + role);
    }
}
