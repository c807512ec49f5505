using PktFlow.Wire;

namespace PktFlow.Topology.Lab;

public sealed partial class LabLoader
{
    /// <summary>
    /// `ip link add NAME type vxlan id VNI [dstport P] [remote IP | group MCAST dev DEV] [local IP] [dev DEV] [nolearning]
    /// [ttl N] [tos N|inherit] [flowlabel N] [port MIN MAX] [udpcsum|noudpcsum] [[no]udp6zerocsumtx] [[no]udp6zerocsumrx] [df unset]`: the words after
    /// `type vxlan`, as iproute2's vxlan_parse_opt reads them. `udpcsum` is the IPv4 socket's, `udp6zerocsumtx`
    /// the IPv6 one's (an IPv6 device sends checksums unless it is given). What the model does not evaluate (collect-metadata `external`, GBP/GPE, proxy ARP, the df setting,
    /// ageing) is refused rather than guessed.
    /// </summary>
    private void AddVxlan(NamespaceBuilder b, string name, List<string> o, MacAddress? mac, int? mtu)
    {
        uint? vni = null;
        ushort port = VxlanParameters.DefaultPort, min = 0, max = 0;
        IpAddr? remote = null, local = null;
        string? lower = null;
        bool learning = true, csum = true, zero6 = false, zero6rx = false;
        uint label = 0;
        byte ttl = 0, tos = 0;
        for (int i = 0; i < o.Count; i++)
        {
            switch (o[i])
            {
                case "id" or "vni":
                    var v = ParseNumber(Need(o, ++i, "VNI"));
                    vni = v <= 0xFFFFFF ? v : throw Error("vxlan: invalid id (0-16777215)", o[i]);
                    break;
                case "dstport":
                    var p = ParseInt(Need(o, ++i, "port"));
                    port = p is >= 0 and <= 65535 ? p == 0 ? VxlanParameters.DefaultPort : (ushort)p : throw Error("invalid dstport", o[i]);
                    break;
                case "remote":
                    remote = VxlanAddress(Need(o, ++i, "remote address"));
                    if (remote.Value.IsMulticast) throw Error("invalid remote address (a multicast one is `group ADDR dev DEV`)", o[i]);
                    break;
                case "group":
                    remote = VxlanAddress(Need(o, ++i, "group address"));
                    if (!remote.Value.IsMulticast) throw Error("invalid group address (not multicast)", o[i]);
                    break;
                case "local": local = VxlanAddress(Need(o, ++i, "local address")); break;
                case "dev": lower = Need(o, ++i, "lower device"); break;
                case "learning": learning = true; break;
                case "nolearning": learning = false; break;
                case "udpcsum": csum = true; break;
                case "noudpcsum": csum = false; break;
                case "udp6zerocsumtx": zero6 = true; break;
                case "noudp6zerocsumtx": zero6 = false; break;
                case "udp6zerocsumrx": zero6rx = true; break;
                case "noudp6zerocsumrx": zero6rx = false; break;
                case "flowlabel" or "label":
                    var lw = Need(o, ++i, "flow label");
                    if (lw == "inherit") throw Error(VxlanUnsupported.FlowLabelInherit, lw);
                    label = ParseNumber(lw) is var fl and <= 0xFFFFF ? fl : throw Error("invalid flowlabel", lw);
                    break;
                case "ttl" or "hoplimit":
                    var tw = Need(o, ++i, "TTL");
                    if (tw == "inherit") throw Error(VxlanUnsupported.TtlInherit, tw);
                    ttl = tw == "auto" ? (byte)0 : ParseInt(tw) is var n and >= 0 and <= 255 ? (byte)n : throw Error("invalid TTL", tw);
                    break;
                case "tos" or "dsfield":
                    var sw = Need(o, ++i, "TOS");
                    tos = sw == "inherit" ? (byte)1 : ParseNumber(sw) is var s and <= 255 ? (byte)s : throw Error("invalid TOS", sw);
                    break;
                case "port" or "srcport":
                    min = (ushort)ParseInt(Need(o, ++i, "lowest source port"));
                    max = (ushort)ParseInt(Need(o, ++i, "highest source port"));
                    if (max < min) throw Error("vxlan: invalid source port range", o[i]);
                    break;
                case "df":
                    var dw = Need(o, ++i, "set, unset or inherit");
                    if (dw != "unset") throw Error(VxlanUnsupported.Df(dw), dw);
                    break;
                case "external" or "collect_metadata" or "vnifilter":
                    throw Error(VxlanUnsupported.CollectMetadata(o[i]), o[i]);
                case "noexternal" or "nocollect_metadata" or "noproxy" or "norsc" or "nol2miss" or "nol3miss" or "nogbp" or "noremcsumtx" or "noremcsumrx": break;
                default:
                    throw Error(VxlanUnsupported.Option(o[i]), o[i]);
            }
        }
        if (vni is not { } id) throw Error("vxlan: missing virtual network identifier (id VNI)");
        if (remote is { } r && local is { } l && r.IsV6 != l.IsV6) throw Error("vxlan: remote and local addresses are of different families");
        // iproute2's words (checked with 6.18's ip): the group is joined on the lower device
        if (remote is { IsMulticast: true } && lower is null) throw Error("vxlan: 'group' requires 'dev' to be specified");
        bool v6 = remote is { IsV6: true } || local is { IsV6: true };
        b.AddVxlanDevice(name, new VxlanParameters(id, port, remote, local, lower, learning, ttl, tos, min, max, v6 ? !zero6 : csum, label, zero6rx), mac, mtu);
    }

    private IpAddr VxlanAddress(string w) => IpAddr.TryParse(w, out var a) ? a : throw Error("invalid address", w);

    /// <summary>
    /// `bridge [-n NS] fdb add|append|replace|del MAC dev VX [dst IP] [via DEV] [self] [permanent|static]` on a vxlan
    /// device (self, iproute2's default without master): an entry of the device's own FDB (vxlan_fdb_add,
    /// vxlan_fdb_delete). False when the device is not a vxlan device or the entry is the bridge's (master).
    /// </summary>
    private bool VxlanBridgeFdb(List<string> w, string ns)
    {
        int i = BridgeNetns(w, ref ns);
        if (i + 2 >= w.Count || w[i] != "fdb" || w[i + 1] is not ("add" or "append" or "replace" or "del" or "delete")) return false;
        int devAt = w.IndexOf("dev", i);
        if (devAt < 0 || devAt + 1 >= w.Count || w.Contains("master") || !_namespaces.TryGetValue(ns, out var b) || !b.HasDevice(w[devAt + 1])
            || b.VxlanOf(w[devAt + 1]) is null) return false;
        var verb = w[i + 1];
        var mac = ParseMac(w[i + 2]);
        string dev = w[devAt + 1];
        IpAddr? dst = null;
        string? via = null;
        bool permanent = true; // iproute2 6.1 without a state word: `bridge fdb show` says permanent (checked on 6.18)
        for (int j = i + 3; j < w.Count; j++)
        {
            switch (w[j])
            {
                case "dev": j++; break;
                case "dst": dst = VxlanAddress(Need(w, ++j, "remote address")); break;
                case "via":
                    via = Need(w, ++j, "device");
                    if (!b.HasDevice(via)) throw Error($"Cannot find device \"{via}\"", via);
                    break;
                case "self": break;
                case "permanent": permanent = true; break;
                case "static": permanent = false; break;
                default: throw Error(VxlanUnsupported.FdbAttribute(w[j]), w[j]);
            }
        }
        if (verb is "del" or "delete") { b.DeleteVxlanFdb(dev, mac, dst); return true; }
        if (dst is not { } remote) throw Error(VxlanUnsupported.FdbWithoutDst);
        b.AddVxlanFdb(new VxlanFdbEntry(dev, mac, remote, permanent, $"{_file}:{_cmd.Line}", via), verb);
        return true;
    }
}
