using PktFlow.Wire;

namespace PktFlow.Topology.Lab;

/// <summary>`ip nexthop add id N via A dev D`, `ip nexthop add id G group 1/2,3` (hash-threshold groups), `ip nexthop del id N`, `ip nexthop flush`.</summary>
public sealed partial class LabLoader
{
    private void NexthopCmd(List<string> a, NamespaceBuilder b, IpFamily? family)
    {
        var verb = Need(a, 0, "nexthop command");
        if (verb is "show" or "list" or "ls" or "get" or "bucket") return;
        if (verb is "flush")
        {
            if (a.Count > 1) throw Error("ip nexthop flush with selectors is not modelled (flush takes every nexthop)", a[1]);
            b.FlushAllNexthops();
            return;
        }
        if (verb is "del" or "delete")
        {
            if (a.Count != 3 || a[1] != "id") throw Error("ip nexthop del takes 'id N'", a.Count > 1 ? a[1] : null);
            b.DeleteNexthop(uint.TryParse(a[2], out var del) && del > 0 ? del : throw Error("a nexthop id is a number from 1 to 4294967295", a[2]));
            return;
        }
        if (verb is not ("add" or "replace")) throw Error($"ip nexthop {verb} is not supported", verb);
        uint? id = null;
        IpAddr? via = null;
        string? dev = null;
        bool blackhole = false;
        List<NexthopGroupMember>? group = null;
        for (int i = 1; i < a.Count; i++)
        {
            var t = a[i];
            switch (t)
            {
                case "id":
                    var n = Need(a, ++i, "nexthop id");
                    id = uint.TryParse(n, out var v) && v > 0 ? v : throw Error("a nexthop id is a number from 1 to 4294967295", n);
                    break;
                case "via":
                    var g = Need(a, ++i, "gateway");
                    if (g is "inet" or "inet6") g = Need(a, ++i, "gateway");
                    via = IpAddr.TryParse(g, out var ga) ? ga : throw Error("bad gateway address", g);
                    if (family is { } f && ga.Family != f) throw Error($"address family mismatch (ip -{(int)f})", g);
                    break;
                case "dev": dev = Need(a, ++i, "device"); break;
                case "blackhole": blackhole = true; break;
                case "group": group = Group(Need(a, ++i, "group (ID[,WEIGHT]/...)")); break;
                case "type":
                    var type = Need(a, ++i, "group type");
                    if (type != "mpath") throw Error($"nexthop group type '{type}' is not modelled (only mpath, the hash-threshold group)", type);
                    break;
                case "onlink": Warn("'onlink' accepted: the gateway is not checked"); break;
                case "proto" or "protocol": i++; break;
                case "fdb" or "encap" or "hw_stats": throw Error($"nexthop attribute '{t}' is not modelled", t);
                default: throw Error("unexpected word in ip nexthop (id, via, dev, blackhole, group, type)", t);
            }
        }
        if (id is not { } nhid) throw Error("ip nexthop add needs 'id N' (the model does not pick ids)");
        if (group is not null && (via is not null || dev is not null || blackhole)) throw Error("a nexthop group takes only 'group' (and 'type')", via?.ToString() ?? dev ?? "blackhole");
        if (blackhole && (via is not null || dev is not null)) throw Error("a blackhole nexthop takes no 'via' or 'dev'", via?.ToString() ?? dev);
        b.AddNexthop(new NexthopObject
        {
            Id = nhid, Gateway = via, Device = dev, Blackhole = blackhole, Group = group,
            Family = group is not null ? null : via?.Family ?? family ?? IpFamily.V4,
        }, verb == "replace", Carrier);
    }

    /// <summary>netif_carrier_ok for a veth: its peer is up (a device without a peer in the lab is taken to have carrier).</summary>
    private bool Carrier(string device, string? peer, string? peerNamespace) =>
        peer is null || peerNamespace is null || !_namespaces.TryGetValue(peerNamespace, out var b) || !b.HasDevice(peer) || b.IsUp(peer);

    /// <summary>`1/2,3`: ids separated by '/', each with an optional ',WEIGHT' (1-256, as iproute2 takes it).</summary>
    private List<NexthopGroupMember> Group(string text)
    {
        var members = new List<NexthopGroupMember>();
        foreach (var part in text.Split('/'))
        {
            var f = part.Split(',');
            if (f.Length > 2 || !uint.TryParse(f[0], out var mid) || mid == 0) throw Error("bad nexthop group member (ID[,WEIGHT])", part);
            int w = 1;
            if (f.Length == 2 && !(int.TryParse(f[1], out w) && w is >= 1 and <= 256)) throw Error("nexthop group weight must be 1-256", f[1]);
            members.Add(new NexthopGroupMember(mid, w));
        }
        return members;
    }
}
