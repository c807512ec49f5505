using System.Globalization;
using PktFlow.Wire;

namespace PktFlow.Topology.Snapshot;

/// <summary>
/// vxlan and macvlan devices as `ip -d -j link` lists them (linkinfo.info_data) and a vxlan device's
/// own FDB as `bridge -j fdb show` lists it (`self` entries with `dst`). What the lab loader refuses
/// (VxlanUnsupported, MacvlanWords) leaves the device or entry not modelled, named with the same words.
/// </summary>
internal static class SnapshotTunnels
{
    /// <summary>vxlan_fill_info's defaults: what a snapshot lists for options the model leaves at the kernel's default.</summary>
    private const int DefaultAgeing = 300;

    /// <summary>Boolean info_data keys the model does not evaluate when they are set (iproute2's names for them).</summary>
    private static readonly string[] UnsupportedFlags =
        ["proxy", "rsc", "l2miss", "l3miss", "gbp", "gpe", "remcsum_tx", "remcsum_rx"];

    /// <summary>
    /// A vxlan device's configuration from its link.json entry <paramref name="l"/>, or null (with the
    /// reason in <paramref name="unmodelled"/>) when it uses what the model does not evaluate.
    /// </summary>
    public static VxlanParameters? Vxlan(SnapshotJson l, string name, List<string> unmodelled)
    {
        var where = $"{l.File}: {l.Path}: vxlan device {name}";
        if (l.Opt("linkinfo")?.Opt("info_data") is not { } d)
        {
            unmodelled.Add($"{where} (no info_data: link.json was not written by `ip -d -j link`; its datapath is not modelled)");
            return null;
        }
        if (VxlanRefusal(l, d) is { } why)
        {
            unmodelled.Add($"{where}: {why} (its datapath is not modelled)");
            return null;
        }
        var range = d.Opt("port_range");
        var port = (ushort)d.Req("port", "the UDP port").Int(0, 65535);
        return new VxlanParameters(
            (uint)d.Req("id", "a VNI").Integer(0, 0xFFFFFF),
            port == 0 ? VxlanParameters.DefaultPort : port,
            // `group` is the same cfg.remote_ip as `remote`, a multicast address
            (d.Opt("remote") ?? d.Opt("remote6") ?? d.Opt("group") ?? d.Opt("group6"))?.Address(),
            (d.Opt("local") ?? d.Opt("local6"))?.Address(),
            d.Opt("link")?.String(),
            d.Opt("learning")?.Raw() != "false",
            (byte)d.Req("ttl", "a TTL").Int(0, 255),
            d.Opt("tos") is { } tos ? Tos(tos) : (byte)0,
            (ushort)(range?.Opt("low")?.Int(0, 65535) ?? 0),
            (ushort)(range?.Opt("high")?.Int(0, 65535) ?? 0),
            // the IPv6 socket's checksums follow udp_zero_csum6_tx, the IPv4 one's udp_csum
            d.Has("remote6") || d.Has("local6") || d.Has("group6") ? d.Opt("udp_zero_csum6_tx")?.Raw() != "true" : d.Opt("udp_csum")?.Raw() != "false",
            d.Opt("label") is { } label ? FlowLabel(label) : 0,
            d.Opt("udp_zero_csum6_rx")?.Raw() == "true");
    }

    /// <summary>Why the model cannot take a vxlan device as listed, in the lab loader's words; null when it can.</summary>
    private static string? VxlanRefusal(SnapshotJson l, SnapshotJson d)
    {
        // a vxlan device moved to another namespace keeps its socket and lower device in the first one
        if (l.Has("link_netnsid")) return "unsupported: its underlay (socket and lower device) is in another namespace (link_netnsid)";
        foreach (var key in new[] { "external", "vnifilter" })
            if (d.Opt(key)?.Raw() == "true") return VxlanUnsupported.CollectMetadata(key);
        if (d.Opt("df")?.Text() is { } df && df != "unset") return VxlanUnsupported.Df(df);
        // iproute2 prints "ttl" unless IFLA_VXLAN_TTL_INHERIT is set (then only the text output says "ttl inherit")
        if (!d.Has("ttl")) return VxlanUnsupported.TtlInherit;
        foreach (var key in UnsupportedFlags)
            if (d.Opt(key)?.Raw() == "true") return VxlanUnsupported.Option(key);
        if (d.Opt("ageing") is { } ageing && ageing.Integer(0, uint.MaxValue) != DefaultAgeing) return VxlanUnsupported.Option("ageing");
        if (d.Opt("limit") is { } limit && limit.Integer(0, uint.MaxValue) != 0) return VxlanUnsupported.Option("maxaddress");
        if (d.Opt("label_policy")?.Text() is "inherit") return VxlanUnsupported.FlowLabelInherit;
        return null;
    }

    /// <summary>"tos": "0x10", or "0x1" for inherit (the kernel's value 1), as iproute2 prints it; a number is taken too.</summary>
    private static byte Tos(SnapshotJson t)
    {
        var s = t.Text();
        if (s == "inherit") return 1;
        bool ok = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? byte.TryParse(s.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v)
            : byte.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        return ok ? v : throw t.Error("a TOS (0x10, or 0x1 for inherit)");
    }

    /// <summary>`ip -d -j link`'s "label": the IPv6 flow label as hex text ("0x12345"), 20 bits.</summary>
    private static uint FlowLabel(SnapshotJson l)
    {
        var s = l.Text();
        bool ok = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? uint.TryParse(s.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v)
            : uint.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        return ok && v <= 0xF_FFFF ? v : throw l.Error("a flow label (0x12345, at most 0xfffff)");
    }

    /// <summary>
    /// One `bridge -j fdb` entry of a vxlan device's own FDB (`self`): a permanent or static entry with
    /// `dst` becomes a <see cref="VxlanFdbEntry"/> (the all-zeros MAC is the default remote); learned
    /// ones are a cache of the moment (null, no line). `viaIf` on the device's own lower device is what
    /// vxlan_fdb_create writes for the default remote; anything else the lab loader refuses is named.
    /// </summary>
    public static VxlanFdbEntry? VxlanFdb(SnapshotJson e, string dev, VxlanParameters p, List<string> unmodelled)
    {
        var state = e.Opt("state")?.Text() ?? "";
        if (state is not ("permanent" or "static")) return null;
        var macText = e.Req("mac", "a MAC address").String();
        var mac = MacAddress.TryParse(macText, out var m) ? m : throw e.Req("mac", "").Error("a MAC address");
        string? why = null;
        foreach (var key in new[] { "port", "vni", "src_vni", "via", "nhid" })
            if (e.Has(key)) why ??= VxlanUnsupported.FdbAttribute(key);
        if (e.Opt("viaIf")?.Text() is { } via && via != p.Lower) why ??= VxlanUnsupported.FdbAttribute("via");
        foreach (var flag in e.Opt("flags")?.Strings() ?? [])
            if (flag != "self") why ??= VxlanUnsupported.FdbAttribute(flag);
        if (!e.Has("dst")) why ??= VxlanUnsupported.FdbWithoutDst;
        if (why is not null)
        {
            unmodelled.Add($"{e.File}: {e.Path}: fdb {macText} dev {dev}{(e.Opt("dst") is { } dst ? $" dst {dst.Text()}" : "")} {state}: {why}");
            return null;
        }
        // the default remote's viaIf is its remote_ifindex: its underlay route is bound to that device
        return new VxlanFdbEntry(dev, mac, e.Req("dst", "an address").Address(), state == "permanent", $"{e.File}: {e.Path}", e.Opt("viaIf")?.Text());
    }

    /// <summary>A macvlan's mode and source MACs as info_data lists them; its lower device is resolved by the loader.</summary>
    public sealed record MacvlanConfig(MacvlanMode Mode, IReadOnlyList<MacAddress> SourceMacs, bool Promisc, bool AllMulti);

    /// <summary>macvlan info_data: mode and macaddr_data; null (with the reason) for options the lab loader refuses.</summary>
    public static MacvlanConfig? Macvlan(SnapshotJson l, string name, List<string> unmodelled)
    {
        var where = $"{l.File}: {l.Path}: macvlan device {name}";
        if (l.Opt("linkinfo")?.Opt("info_data") is not { } d)
        {
            unmodelled.Add($"{where} (no info_data: link.json was not written by `ip -d -j link`; its datapath is not modelled)");
            return null;
        }
        var modeText = d.Opt("mode")?.Text() ?? "vepa";
        string? why = MacvlanWords.Mode(modeText) is null ? $"{MacvlanWords.BadMode}, got '{modeText}'" : null;
        foreach (var key in new[] { "nopromisc", "nodst" })
            if (d.Opt(key)?.Raw() == "true") why ??= MacvlanWords.UnsupportedOption(key);
        // macvlan_fill_info: the port's broadcast queue length (default 1000) and cutoff (default 1)
        if (d.Opt("bcqueuelen") is { } q && q.Integer(0, uint.MaxValue) != 1000) why ??= MacvlanWords.UnsupportedOption("bcqueuelen");
        if (d.Opt("bclim") is { } c && c.Integer(int.MinValue, int.MaxValue) != 1) why ??= MacvlanWords.UnsupportedOption("bclim");
        if (why is not null)
        {
            unmodelled.Add($"{where}: {why} (its datapath is not modelled)");
            return null;
        }
        var sources = (d.Opt("macaddr_data")?.Strings() ?? [])
            .Select(s => MacAddress.TryParse(s, out var m) ? m : throw d.Req("macaddr_data", "").Error("MAC addresses")).ToList();
        // its own IFF_PROMISC / IFF_ALLMULTI fill its mc_filter
        var flags = l.Opt("flags")?.Strings() ?? [];
        return new MacvlanConfig(MacvlanWords.Mode(modeText)!.Value, sources, flags.Contains("PROMISC"), flags.Contains("ALLMULTI"));
    }
}
