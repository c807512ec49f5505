using System.Text.Json;
using PktFlow.Testing;
using PktFlow.Topology.Lab;

namespace PktFlow.Tests.Replay;

/// <summary>
/// tcpdump -i any frames name their device by ifindex only, so a lab must number its devices as the
/// kernel does for the same commands in fresh namespaces (lo 1, then one number per device in order of
/// creation, per namespace; a veth peer in the same namespace is registered first). Every recorded
/// scenario's kernel.json lists the devices with the ifindex the kernel gave them: the model must agree.
/// </summary>
public class IfIndexNumberingTests
{
    private static string Scenarios => Path.Combine(RepoPaths.Root, "tests", "scenarios");

    public static IEnumerable<object[]> Recorded() =>
        Directory.GetDirectories(Scenarios).Order(StringComparer.Ordinal)
            .Where(dir => File.Exists(Path.Combine(dir, "kernel.json"))).Select(dir => new object[] { Path.GetFileName(dir) });

    /// <summary>
    /// Measured on Linux 6.18 in two fresh namespaces with these commands (ip -j link): a veth pair in
    /// one namespace numbers the peer first; a peer created in another namespace takes that
    /// namespace's next number; a device moved to another namespace keeps its number there.
    /// </summary>
    [Fact]
    public void VethPeersAndMovedDevicesAreNumberedAsTheKernelNumbersThem()
    {
        var lab = string.Join("\n",
            "ip netns add t2",
            "ip link add vA type veth peer name vB",
            "ip link add br0 type bridge",
            "ip link add vC type veth peer name vD netns t2",
            "ip link add vE type veth peer name vF",
            "ip link set vF netns t2");
        var topology = LabLoader.Load(lab, "numbering.lab");
        string Numbers(string ns) => string.Join(" ", topology.Namespace(ns)!.Devices.OrderBy(d => d.IfIndex).Select(d => $"{d.Name}:{d.IfIndex}"));
        Assert.Equal("lo:1 vB:2 vA:3 br0:4 vC:5 vE:7", Numbers("host"));
        Assert.Equal("lo:1 vD:2 vF:6", Numbers("t2"));
    }

    [Theory]
    [MemberData(nameof(Recorded))]
    public void TheLabNumbersDevicesAsTheKernelDid(string scenario)
    {
        var dir = Path.Combine(Scenarios, scenario);
        var topology = LabLoader.LoadFile(Path.Combine(dir, "lab.sh"));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "kernel.json")));
        var differences = new List<string>();
        foreach (var ns in doc.RootElement.GetProperty("namespaces").EnumerateObject())
        {
            var model = topology.Namespace(ns.Name);
            if (model is null) { differences.Add($"{ns.Name}: not in the model"); continue; }
            foreach (var dev in ns.Value.GetProperty("devices").EnumerateObject())
            {
                int kernel = dev.Value.GetProperty("ifindex").GetInt32();
                var d = model.Device(dev.Name);
                if (d is null) differences.Add($"{ns.Name}/{dev.Name}: not in the model");
                else if (d.IfIndex != kernel) differences.Add($"{ns.Name}/{dev.Name}: kernel ifindex {kernel}, model {d.IfIndex}");
            }
        }
        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }
}
