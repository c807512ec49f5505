using PktFlow.Capture;
using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Replay;

/// <summary>
/// With no lab, a host is inferred from the capture: one device, eth0, with the MAC most frames are
/// addressed to and the unicast addresses those frames are sent to (as /24 and /64), forwarding off.
/// Results say so; it is a guess to get started, not a model of the real host.
/// </summary>
public static class HostInference
{
    public const int FramesToLook = 2000;

    public static (HostTopology Topology, string Description) Infer(string capturePath)
    {
        var macs = new Dictionary<MacAddress, int>();
        var ipsByMac = new Dictionary<MacAddress, Dictionary<IpAddr, int>>();
        var rawIps = new Dictionary<IpAddr, int>();
        int frames = 0;
        using (var reader = CaptureReader.Open(capturePath))
        {
            while (frames < FramesToLook)
            {
                var status = reader.Read(out var frame, out _);
                if (status == CaptureReadStatus.End) break;
                if (status != CaptureReadStatus.Frame) continue;
                frames++;
                var data = frame.Data.Span;
                if (!LinkLayer.TryDecode(frame.LinkType, data, out var link, out _)) continue;
                if (link.IsEthernet)
                {
                    if (!EthernetFrame.TryParse(data, out var eth, out _) || eth.Destination.IsMulticast) continue;
                    macs[eth.Destination] = macs.GetValueOrDefault(eth.Destination) + 1;
                    if (!ipsByMac.TryGetValue(eth.Destination, out var ips)) ipsByMac[eth.Destination] = ips = new();
                    if (Destination(eth.EtherType, eth.Payload) is { } d) ips[d] = ips.GetValueOrDefault(d) + 1;
                }
                else if (Destination(link.EtherType, data[link.NetworkOffset..]) is { } d)
                    rawIps[d] = rawIps.GetValueOrDefault(d) + 1;
            }
        }
        var b = new NamespaceBuilder(LabLoader.HostNamespace, loopbackUp: true);
        MacAddress mac = macs.Count > 0 ? macs.MaxBy(kv => kv.Value).Key : new MacAddress(0x0200_0000_0001UL);
        var addresses = macs.Count > 0 ? ipsByMac[mac] : rawIps.Count > 0 ? new Dictionary<IpAddr, int> { [rawIps.MaxBy(kv => kv.Value).Key] = 1 } : new();
        b.AddDevice("eth0", DeviceKind.Physical, mac);
        b.SetUp("eth0", true);
        var added = new List<string>();
        foreach (var a in addresses.Keys.OrderBy(a => a))
        {
            var p = new IpPrefix(a, a.IsV4 ? 24 : 64);
            b.AddAddress("eth0", p, null);
            added.Add($"{a}/{p.Length}");
        }
        var description = $"no lab file: inferred a host from {Path.GetFileName(capturePath)} ({frames} frames looked at): eth0 {mac}"
            + (added.Count > 0 ? $" with {string.Join(", ", added)}" : " with no address")
            + ", forwarding off. Pass -Lab (iproute2 commands) to describe the real host.";
        return (new HostTopology(new[] { b.Build() }, description, Array.Empty<string>()), description);
    }

    private static IpAddr? Destination(ushort etherType, ReadOnlySpan<byte> l3)
    {
        if (etherType == EtherTypes.Ipv4 && Ipv4Header.TryParse(l3, out var ip, out _))
            return ip.Destination.IsMulticast || ip.Destination.IsLimitedBroadcast || ip.Destination.IsZeroNet ? null : ip.Destination;
        if (etherType == EtherTypes.Ipv6 && Ipv6Header.TryParse(l3, out var ip6, out _))
            return ip6.Destination.IsMulticast || ip6.Destination.IsZero ? null : ip6.Destination;
        return null;
    }
}
