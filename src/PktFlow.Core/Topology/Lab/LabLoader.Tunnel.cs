using PktFlow.Wire;

namespace PktFlow.Topology.Lab;

/// <summary>The lab commands of IP-in-IP tunnels and FOU/GUE receive ports: `ip link add NAME type ipip ...`, `ip fou add ...`.</summary>
public sealed partial class LabLoader
{
    /// <summary>Set once the ipip module is in: every namespace, present and future, has its fallback tunl0.</summary>
    private bool _ipipLoaded;

    /// <summary>ipip_init_net: loading the module makes a fallback `tunl0` (any/any, down) in every namespace.</summary>
    private void LoadIpipModule()
    {
        if (_ipipLoaded) return;
        _ipipLoaded = true;
        foreach (var b in _namespaces.Values) AddFallbackTunnel(b);
    }

    private void AddFallbackTunnel(NamespaceBuilder b)
    {
        if (b.HasDevice(IpTunnelParameters.FallbackName)) return;
        var any = new IpTunnelParameters(null, null, false, IpProtocol.IpIp);
        b.AddDevice(IpTunnelParameters.FallbackName, DeviceKind.Ipip, MacAddress.Zero, 1480, tunnel: any);
        (_tunnels.TryGetValue(b.Name, out var l) ? l : _tunnels[b.Name] = new()).Add(any); // in the tunnel hash like any other
    }

    /// <summary>Tunnels created by the lab, per namespace, for ip_tunnel_newlink's duplicate check.</summary>
    private readonly Dictionary<string, List<IpTunnelParameters>> _tunnels = new();

    private void AddIpip(NamespaceBuilder b, string name, int? mtu, IpTunnelParameters tunnel)
    {
        LoadIpipModule();
        var made = _tunnels.TryGetValue(b.Name, out var l) ? l : _tunnels[b.Name] = new();
        // ip_tunnel_newlink: one collect_md tunnel per namespace, and no two tunnels with the same endpoints.
        if (made.Any(t => tunnel.External ? t.External : !t.External && t.Local == tunnel.Local && t.Remote == tunnel.Remote))
            throw Error($"an ipip tunnel with {tunnel} already exists in {b.Name} (RTNETLINK answers: File exists)");
        made.Add(tunnel);
        b.AddDevice(name, DeviceKind.Ipip, MacAddress.Zero, mtu ?? 1480, tunnel: tunnel);
    }

    /// <summary>The words after `type ipip`: local, remote, external, mode, and transmit-only options (ttl, tos, dev, encap ...).</summary>
    private IpTunnelParameters IpipOptions(List<string> a)
    {
        IpAddr? local = null, remote = null;
        bool external = false;
        byte protocol = IpProtocol.IpIp;
        for (int i = 0; i < a.Count; i++)
        {
            switch (a[i])
            {
                case "local": local = TunnelAddress(Need(a, ++i, "local address")); break;
                case "remote": remote = TunnelAddress(Need(a, ++i, "remote address")); break;
                case "external": external = true; break;
                case "mode":
                    protocol = Need(a, ++i, "mode") switch
                    {
                        "ipip" or "ip4ip4" => IpProtocol.IpIp,
                        "any" => 0,
                        "mplsip" => IpProtocol.Mpls,
                        var m => throw Error($"unknown ipip mode '{m}' (expected ipip, mplsip or any)", m),
                    };
                    break;
                case "ttl" or "hoplimit" or "tos" or "dsfield" or "dev" or "link" or "encap" or "encap-sport" or "encap-dport" or "fwmark":
                    i++;
                    break;
                case "pmtudisc" or "nopmtudisc" or "ignore-df" or "noignore-df" or "encap-csum" or "noencap-csum" or "encap-remcsum" or "noencap-remcsum":
                    break;
                default: throw Error("unknown ipip option", a[i]);
            }
        }
        if (external && (local is not null || remote is not null))
            throw Error("an external ipip tunnel takes no local/remote address");
        return new IpTunnelParameters(local, remote, external, protocol);
    }

    private IpAddr? TunnelAddress(string s)
    {
        if (s == "any") return null;
        return IpAddr.TryParse(s, out var a) && a.IsV4 ? a : throw Error("not an IPv4 address", s);
    }

    /// <summary>ip [-6] fou add port N { gue | ipproto P } [local A] [peer A peer_port N] [dev D]; ip fou del is refused.</summary>
    private void Fou(List<string> a, NamespaceBuilder b, IpFamily? family)
    {
        var verb = Need(a, 0, "fou command");
        if (verb is "show" or "list") return;
        if (verb != "add") throw Error($"ip fou {verb} is not supported (build the lab without it)", verb);
        ushort? port = null;
        bool gue = false;
        byte protocol = 0;
        IpAddr? local = null;
        for (int i = 1; i < a.Count; i++)
        {
            switch (a[i])
            {
                case "port": port = ushort.TryParse(Need(a, ++i, "port"), out var p) && p > 0 ? p : throw Error("bad port", a[i]); break;
                case "gue": gue = true; break;
                case "ipproto": protocol = byte.TryParse(Need(a, ++i, "protocol"), out var pr) ? pr : throw Error("bad protocol number", a[i]); break;
                case "local": local = IpAddr.TryParse(Need(a, ++i, "local address"), out var l) ? l : throw Error("bad address", a[i]); break;
                case "peer" or "peer_port" or "dev":
                    throw Error($"ip fou add {a[i]} (a connected FOU socket) is not modelled", a[i]);
                default: throw Error("unknown ip fou option", a[i]);
            }
        }
        if (port is null) throw Error("ip fou add needs 'port N'");
        if (gue == (protocol != 0)) throw Error("ip fou add needs exactly one of 'gue' or 'ipproto P'");
        try { b.AddFou(new FouPort(port.Value, gue, protocol, local, family == IpFamily.V6)); }
        catch (TopologyException e) { throw Error(e.Message); }
    }
}
