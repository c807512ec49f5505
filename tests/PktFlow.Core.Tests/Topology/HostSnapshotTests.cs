using System.Text.Json;
using PktFlow.Testing;
using PktFlow.Topology;
using PktFlow.Topology.Lab;

namespace PktFlow.Tests.Topology;

/// <summary>
/// The kernel as the judge of the lab loader: for every bundled capture, the routes the model builds
/// from lab.sh must be exactly the routes the real namespace showed (`ip -j route show table all`,
/// recorded in captures/NAME/host-snapshot when the capture was made).
/// </summary>
public class HostSnapshotTests
{
    public static TheoryData<string> Scenarios()
    {
        var d = new TheoryData<string>();
        foreach (var dir in Directory.GetDirectories(RepoPaths.Captures).Order())
            if (File.Exists(Path.Combine(dir, "lab.sh")) && File.Exists(Path.Combine(dir, "host-snapshot", "route4.json")))
                d.Add(Path.GetFileName(dir));
        return d;
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void RoutesMatchTheKernel(string scenario)
    {
        var dir = Path.Combine(RepoPaths.Captures, scenario);
        var ns = LabLoader.LoadFile(Path.Combine(dir, "lab.sh")).Host;
        foreach (var (file, family) in new[] { ("route4.json", PktFlow.Wire.IpFamily.V4), ("route6.json", PktFlow.Wire.IpFamily.V6) })
        {
            var kernel = KernelRoutes(Path.Combine(dir, "host-snapshot", file)).Order(StringComparer.Ordinal).ToArray();
            var model = ns.Routes.Where(r => r.Family == family).Select(Key).Order(StringComparer.Ordinal).ToArray();
            Assert.True(kernel.SequenceEqual(model),
                $"{scenario} {file}:\n  kernel only: {string.Join("\n               ", kernel.Except(model))}\n  model only:  {string.Join("\n               ", model.Except(kernel))}");
        }
    }

    private static bool IsReject(string type) => type is "blackhole" or "unreachable" or "prohibit" or "throw";

    private static string Key(Route r)
    {
        var type = r.Type.ToString().ToLowerInvariant();
        var dst = r.Destination.IsDefault ? "default" : r.Destination.IsHost ? r.Destination.Address.ToString() : $"{r.Destination.Network}/{r.Destination.Length}";
        var dev = IsReject(type) ? "" : r.Device;
        return $"{type} {dst} via {r.Gateway?.ToString() ?? ""} dev {dev} table {RouteTables.Name(r.Table)}";
    }

    private static IEnumerable<string> KernelRoutes(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        foreach (var r in doc.RootElement.EnumerateArray())
        {
            string Get(string name) => r.TryGetProperty(name, out var v) ? v.ToString() : "";
            var type = Get("type") is { Length: > 0 } t ? t : "unicast";
            var table = Get("table") is { Length: > 0 } tb ? tb : "main";
            var dev = IsReject(type) ? "" : Get("dev");
            yield return $"{type} {Get("dst")} via {Get("gateway")} dev {dev} table {table}";
        }
    }
}
