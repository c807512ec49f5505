using System.Globalization;
using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.Tc;

/// <summary>Filter text tc would refuse, or that the model does not evaluate; Token is the word at fault.</summary>
public sealed class TcParseException(string message, string? token) : Exception(message)
{
    public string? Token { get; } = token;
}

/// <summary>What `tc filter add dev D ...` says, before the namespace places it.</summary>
public sealed record TcFilterSpec(string Device, TcDirection Direction, int Pref, ushort Protocol, TcClassifier Classifier, IReadOnlyList<TcAction> Actions);

/// <summary>
/// The words of `tc filter add|replace ...` after the verb, as iproute2 6.1 reads them: dev, the
/// parent (ingress / egress / ffff:fff2 / ffff:fff3 / ffff:), pref|prio, protocol, then the
/// classifier (u32, flower, matchall, bpf in direct-action or classid mode) and its actions. Chains
/// other than 0, u32 hash tables and links, and actions other than gact, mirred, skbedit, vlan and
/// bpf are refused.
/// </summary>
public static class TcFilterParser
{
    /// <summary>loadBpf reads the program of (object file, section) for a bpf filter; without it bpf filters are refused.</summary>
    public static TcFilterSpec Parse(IReadOnlyList<string> w, Func<string, string, Bpf.BpfProgram>? loadBpf = null)
    {
        string? dev = null; TcDirection? dir = null; int pref = 0; ushort protocol = TcFilter.ProtocolAll;
        int i = 0;
        for (; i < w.Count; i++)
        {
            switch (w[i])
            {
                case "dev": dev = Need(w, ++i, "device"); break;
                case "ingress": dir = TcDirection.Ingress; break;
                case "egress": dir = TcDirection.Egress; break;
                case "parent":
                    var p = Need(w, ++i, "parent").ToLowerInvariant();
                    dir = p is "ffff:fff2" or "ffff:" or "ffff:0" ? TcDirection.Ingress : p is "ffff:fff3" ? TcDirection.Egress
                        : throw new TcParseException($"parent {p}: only the clsact/ingress parents (ffff:fff2, ffff:fff3, ffff:) are modelled; classful qdiscs are not", p);
                    break;
                case "pref" or "prio" or "priority":
                    var v = Need(w, ++i, "pref");
                    if (!int.TryParse(v, out pref) || pref is < 1 or > 0xFFFF) throw new TcParseException($"Illegal \"priority\": {v}", v);
                    break;
                case "protocol":
                    var pr = Need(w, ++i, "protocol");
                    protocol = TcNames.ParseProtocol(pr) ?? throw new TcParseException($"Illegal \"protocol\": {pr}", pr);
                    break;
                case "chain":
                    var c = Need(w, ++i, "chain");
                    if (c != "0") throw new TcParseException($"chain {c}: only chain 0 is modelled (goto chain is not)", c);
                    break;
                case "handle":
                    throw new TcParseException("explicit filter handles are not modelled: leave the kernel to number filters", w[i]);
                case "estimator": throw new TcParseException("estimators are not modelled", w[i]);
                default: goto kind;
            }
        }
    kind:
        if (dev is null) throw new TcParseException("expected 'dev DEVICE'", null);
        if (dir is null) throw new TcParseException("expected 'ingress', 'egress' or 'parent ffff:fff2|ffff:fff3'", null);
        if (i >= w.Count) throw new TcParseException("expected a classifier (u32, flower, matchall)", null);
        var kindWord = w[i++];
        var rest = w.Skip(i).ToList();
        int actionsAt = rest.FindIndex(x => x is "action" or "actions");
        var clsWords = actionsAt < 0 ? rest : rest.Take(actionsAt).ToList();
        var actions = actionsAt < 0 ? new List<TcAction>() : ParseActions(rest.Skip(actionsAt).ToList(), loadBpf);
        TcClassifier cls = kindWord switch
        {
            "u32" => ParseU32(clsWords, protocol, actions.Count > 0),
            "flower" => ParseFlower(clsWords, protocol),
            "matchall" => ParseMatchall(clsWords),
            "bpf" => ParseBpf(clsWords, actions.Count > 0, loadBpf ?? throw new TcParseException("cls_bpf: no object files can be read here", kindWord)),
            _ => throw new TcParseException($"classifier '{kindWord}' is not modelled (u32, flower and matchall are)", kindWord),
        };
        return new TcFilterSpec(dev, dir.Value, pref, protocol, cls, actions);
    }

    private static string Need(IReadOnlyList<string> w, int i, string what) =>
        i < w.Count ? w[i] : throw new TcParseException($"expected {what}", w.Count > 0 ? w[^1] : null);

    // --------------------------------------------------------------------------------------- bpf

    /// <summary>
    /// cls_bpf: `[da|direct-action] obj FILE [sec|section NAME] [classid|flowid C] [verbose] [skip_hw|skip_sw]`
    /// then actions (classid mode only); iproute2's default section for tc is "classifier".
    /// </summary>
    private static ClsBpf ParseBpf(List<string> w, bool hasActions, Func<string, string, Bpf.BpfProgram> load)
    {
        string? file = null, classid = null; string section = "classifier"; bool da = false, skipSw = false;
        for (int i = 0; i < w.Count; i++)
        {
            switch (w[i])
            {
                case "da" or "direct-action": da = true; break;
                case "obj" or "object-file": file = Need(w, ++i, "object file"); break;
                case "sec" or "section": section = Need(w, ++i, "section name"); break;
                case "verbose" or "verb" or "skip_hw": break;
                case "skip_sw": skipSw = true; break;
                case "pinned" or "object-pinned" or "fd" or "bytecode" or "bytecode-file" or "bc":
                    throw new TcParseException($"unsupported: cls_bpf {w[i]} (the model reads object files: obj FILE)", w[i]);
                case "classid" or "flowid": classid = Need(w, ++i, "classid"); break;
                case "police": throw new TcParseException("unsupported: cls_bpf police (policers are not modelled)", w[i]);
                default: throw new TcParseException($"bpf: unexpected '{w[i]}'", w[i]);
            }
        }
        if (file is null) throw new TcParseException("bpf: expected obj FILE", null);
        // the kernel keeps a direct-action filter's actions but never runs them (cls_bpf_classify returns the program's verdict first)
        if (da && hasActions) throw new TcParseException("unsupported: cls_bpf da with actions (a direct-action program's verdict replaces them)", "action");
        uint classidValue = ClassIdOf(classid);
        return new ClsBpf { Program = load(file, section), File = file, SkipSw = skipSw, DirectAction = da, ClassId = classid, ClassIdValue = classidValue };
    }

    private static uint ClassIdOf(string? classid) => classid is null ? 0 : ParseClassId(classid);

    /// <summary>get_tc_classid: MAJ:MIN in hex (either may be empty: 0), a bare hex number (the whole handle), root or none.</summary>
    internal static uint ParseClassId(string s)
    {
        if (s == "root") return 0xFFFFFFFF;
        if (s == "none") return 0;
        int colon = s.IndexOf(':');
        if (colon < 0) return Hex(s, 0xFFFFFFFF);
        return Hex(s[..colon], 0xFFFF) << 16 | Hex(s[(colon + 1)..], 0xFFFF);

        uint Hex(string h, uint max) => uint.TryParse(h.Length == 0 ? "0" : h, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v) && v <= max
            ? v : throw new TcParseException($"Illegal \"classid\": {s}", s);
    }

    // ---------------------------------------------------------------------------------- matchall

    internal static ClsMatchall ParseMatchall(List<string> w)
    {
        bool skipSw = false; string? classid = null;
        for (int i = 0; i < w.Count; i++)
        {
            switch (w[i])
            {
                case "skip_sw": skipSw = true; break;
                case "skip_hw": break;
                case "classid" or "flowid": classid = Need(w, ++i, "classid"); break;
                default: throw new TcParseException($"matchall: unexpected '{w[i]}'", w[i]);
            }
        }
        return new ClsMatchall { SkipSw = skipSw, ClassId = classid, ClassIdValue = ClassIdOf(classid) };
    }

    // ----------------------------------------------------------------------------------- flower

    internal static ClsFlower ParseFlower(List<string> w, ushort protocol)
    {
        MacAddress? smac = null, dmac = null; ushort? vid = null, vet = null; byte? vprio = null, ipProto = null;
        IpPrefix? sip = null, dip = null; PortRange? sport = null, dport = null; bool? frag = null, first = null;
        bool skipSw = false; string? classid = null;
        bool ip = protocol is EtherTypes.Ipv4 or EtherTypes.Ipv6;
        for (int i = 0; i < w.Count; i++)
        {
            var k = w[i];
            switch (k)
            {
                case "skip_sw": skipSw = true; break;
                case "skip_hw": break;
                case "classid" or "flowid": classid = Need(w, ++i, "classid"); break;
                case "src_mac" or "dst_mac":
                    var m = Need(w, ++i, "MAC address");
                    if (!MacAddress.TryParse(m, out var mac)) throw new TcParseException($"Illegal \"{k}\"", m);
                    if (k == "src_mac") smac = mac; else dmac = mac;
                    break;
                case "vlan_id" or "vlan_prio" or "vlan_ethtype":
                    if (protocol is not (EtherTypes.Vlan or 0x88A8)) throw new TcParseException($"Can't set \"{k}\" if ethertype isn't 802.1Q or 802.1AD", k);
                    var vv = Need(w, ++i, k);
                    if (k == "vlan_ethtype") { vet = TcNames.ParseProtocol(vv) ?? throw new TcParseException("Illegal \"vlan_ethtype\"", vv); ip = vet is EtherTypes.Ipv4 or EtherTypes.Ipv6; }
                    else if (k == "vlan_id") vid = ushort.TryParse(vv, out var id) && id < 4096 ? id : throw new TcParseException("Illegal \"vlan id\"", vv);
                    else vprio = byte.TryParse(vv, out var pp) && pp < 8 ? pp : throw new TcParseException("Illegal \"vlan prio\"", vv);
                    break;
                case "ip_proto":
                    if (!ip) throw new TcParseException("Illegal \"eth_type\" for ip proto", k);
                    var pv = Need(w, ++i, "ip_proto");
                    ipProto = pv switch { "tcp" => IpProtocol.Tcp, "udp" => IpProtocol.Udp, "sctp" => IpProtocol.Sctp, "icmp" => IpProtocol.Icmp, "icmpv6" => IpProtocol.Icmpv6,
                        _ => byte.TryParse(pv.StartsWith("0x") ? pv[2..] : pv, pv.StartsWith("0x") ? NumberStyles.HexNumber : NumberStyles.Integer, null, out var b) ? b : throw new TcParseException("Illegal \"ip_proto\"", pv) };
                    break;
                case "src_ip" or "dst_ip":
                    if (!ip) throw new TcParseException($"Illegal \"eth_type\" for {k}", k);
                    var a = Need(w, ++i, "address");
                    if (!IpPrefix.TryParse(a, IpFamily.V4, out var pfx)) throw new TcParseException($"Illegal \"{k}\"", a);
                    if (k == "src_ip") sip = pfx; else dip = pfx;
                    break;
                case "src_port" or "dst_port":
                    if (ipProto is not (IpProtocol.Tcp or IpProtocol.Udp or IpProtocol.Sctp)) throw new TcParseException($"Illegal \"ip_proto\" for {k}: needs ip_proto tcp, udp or sctp first", k);
                    var r = ParsePortRange(Need(w, ++i, "port"));
                    if (k == "src_port") sport = r; else dport = r;
                    break;
                case "ip_flags":
                    foreach (var f in Need(w, ++i, "flags").Split('/'))
                    {
                        switch (f)
                        {
                            case "frag": frag = true; break;
                            case "nofrag": frag = false; break;
                            case "firstfrag": first = true; break;
                            case "nofirstfrag": first = false; break;
                            default: throw new TcParseException($"Unknown ip_flags \"{f}\"", f);
                        }
                    }
                    break;
                case "indev": throw new TcParseException("flower indev is not modelled", k);
                default: throw new TcParseException($"flower key '{k}' is not modelled (src_mac, dst_mac, vlan_id, vlan_prio, vlan_ethtype, ip_proto, src_ip, dst_ip, src_port, dst_port, ip_flags are)", k);
            }
        }
        return new ClsFlower
        {
            SrcMac = smac, DstMac = dmac, VlanId = vid, VlanPrio = vprio, VlanEthType = vet, IpProto = ipProto, SrcIp = sip, DstIp = dip,
            SrcPort = sport, DstPort = dport, Frag = frag, FirstFrag = first, SkipSw = skipSw, ClassId = classid, ClassIdValue = ClassIdOf(classid),
        };
    }

    private static PortRange ParsePortRange(string s)
    {
        int dash = s.IndexOf('-');
        if (dash < 0) return ushort.TryParse(s, out var p) ? new PortRange(p, p) : throw new TcParseException("Illegal port", s);
        if (!ushort.TryParse(s[..dash], out var lo) || !ushort.TryParse(s[(dash + 1)..], out var hi) || lo >= hi)
            throw new TcParseException("Invalid port range: the first port must be below the second", s);
        return new PortRange(lo, hi);
    }

    // -------------------------------------------------------------------------------------- u32

    private static ClsU32 ParseU32(List<string> w, ushort protocol, bool hasActions)
    {
        var keys = new List<U32Key>();
        bool skipSw = false; string? classid = null;
        for (int i = 0; i < w.Count; i++)
        {
            switch (w[i])
            {
                case "match": i = ParseU32Match(w, i + 1, keys) - 1; break;
                case "classid" or "flowid": classid = Need(w, ++i, "classid"); break;
                case "skip_sw": skipSw = true; break;
                case "skip_hw": break;
                case "ht" or "link" or "divisor" or "hashkey" or "offset" or "sample" or "order" or "handle":
                    throw new TcParseException($"u32 {w[i]}: hash tables, links and offsets are not modelled (only keys of the root table)", w[i]);
                default: throw new TcParseException($"What is \"{w[i]}\"?", w[i]);
            }
        }
        if (keys.Count == 0) keys.Add(new U32Key(0, 0, 0)); // tc adds an empty key: every packet
        return new ClsU32 { Keys = keys, SkipSw = skipSw, ClassId = classid, ClassIdValue = ClassIdOf(classid) };
    }

    /// <summary>One `match SAMPLE ARGS`; returns the index after it.</summary>
    private static int ParseU32Match(List<string> w, int i, List<U32Key> keys)
    {
        var sel = Need(w, i, "u32 selector");
        switch (sel)
        {
            case "u32" or "u16" or "u8":
            {
                uint val = ParseNumber(Need(w, i + 1, "value")), mask = ParseNumber(Need(w, i + 2, "mask"));
                if (i + 3 >= w.Count || w[i + 3] != "at")
                {
                    Pack(keys, val, mask, 0, sel == "u32" ? 32 : sel == "u16" ? 16 : 8, w[i + 2]); // no 'at': offset 0
                    return i + 3;
                }
                var o = Need(w, i + 4, "offset");
                if (o.StartsWith("nexthdr+", StringComparison.Ordinal)) throw new TcParseException("u32 nexthdr+ offsets are not modelled", o);
                if (!int.TryParse(o, out int off)) throw new TcParseException("Illegal \"offset\"", o);
                Pack(keys, val, mask, off, sel == "u32" ? 32 : sel == "u16" ? 16 : 8, o);
                return i + 5;
            }
            case "ip" or "ip6":
                return ParseIpMatch(w, i + 1, keys, sel == "ip6");
            case "tcp" or "udp":
            {
                var f = Need(w, i + 1, "field");
                int off = f switch { "src" => 0, "dst" => 2, _ => throw new TcParseException($"u32 {sel} {f} is not modelled", f) };
                Pack(keys, ParseNumber(Need(w, i + 2, "value")), ParseNumber(Need(w, i + 3, "mask")), off, 16, f, nexthdr: true);
                return i + 4;
            }
            default: throw new TcParseException($"u32 match {sel} is not modelled (u32, u16, u8, ip, ip6 are)", sel);
        }
    }

    private static int ParseIpMatch(List<string> w, int i, List<U32Key> keys, bool v6)
    {
        var f = Need(w, i, "field");
        switch (f)
        {
            case "src" or "dst":
            {
                var a = Need(w, i + 1, "prefix");
                if (!IpPrefix.TryParse(a, v6 ? IpFamily.V6 : IpFamily.V4, out var p) || p.Address.IsV6 != v6) throw new TcParseException($"Illegal \"match\": {a}", a);
                Span<byte> bytes = stackalloc byte[16];
                p.Address.Write(bytes);
                int baseOff = v6 ? (f == "src" ? 8 : 24) : (f == "src" ? 12 : 16);
                int len = p.Length;
                for (int word = 0; len > 0; word++, len -= 32)
                {
                    int bits = Math.Min(32, len);
                    uint mask = bits == 32 ? 0xFFFFFFFF : ~(0xFFFFFFFF >> bits);
                    uint val = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes[(word * 4)..]) & mask;
                    Pack(keys, val, mask, baseOff + word * 4, 32, a);
                }
                return i + 2;
            }
            case "protocol" when !v6: return Field(8 + 1, 8);
            case "protocol" when v6: return Field(6, 8);
            case "tos" or "dsfield" when !v6: return Field(1, 8);
            case "ihl" when !v6: return Field(0, 8);
            case "priority" when v6: throw new TcParseException("u32 match ip6 priority is not modelled", f);
            case "sport": return Field(v6 ? 40 : 20, 16);
            case "dport": return Field(v6 ? 42 : 22, 16);
            case "icmp_type": return Field(v6 ? 40 : 20, 8);
            case "icmp_code": return Field(v6 ? 41 : 21, 8);
            default: throw new TcParseException($"u32 match {(v6 ? "ip6" : "ip")} {f} is not modelled", f);
        }

        int Field(int off, int bits)
        {
            var value = Need(w, i + 1, "value");
            Pack(keys, ParseNumber(value), ParseNumber(Need(w, i + 2, "mask")), off, bits, value);
            return i + 3;
        }
    }

    /// <summary>
    /// pack_key / pack_key16 / pack_key8 of iproute2's f_u32.c: a sample becomes (part of) the aligned
    /// 32-bit word that holds it; keys at the same offset merge, and a conflict is refused.
    /// </summary>
    private static void Pack(List<U32Key> keys, uint val, uint mask, int off, int bits, string token, bool nexthdr = false)
    {
        if (nexthdr) throw new TcParseException("u32 tcp/udp matches are relative to the next header (nexthdr+): not modelled; use 'match ip sport/dport'", token);
        if (bits < 32 && (mask >> bits) != 0) throw new TcParseException($"mask 0x{mask:x} is wider than u{bits}", token);
        if ((val & ~mask) != 0) throw new TcParseException($"Illegal \"match\": value 0x{val:x} has bits outside mask 0x{mask:x}", token);
        int shift = bits switch { 16 => (off & 3) == 0 ? 16 : 0, 8 => (3 - (off & 3)) * 8, _ => 0 };
        val <<= shift; mask <<= shift; off &= ~3;
        for (int k = 0; k < keys.Count; k++)
        {
            if (keys[k].Offset != off) continue;
            if (((keys[k].Value ^ val) & keys[k].Mask & mask) != 0) throw new TcParseException("Illegal \"match\": it contradicts an earlier match at the same offset", token);
            keys[k] = new U32Key(keys[k].Value | val, keys[k].Mask | mask, off);
            return;
        }
        keys.Add(new U32Key(val, mask, off));
    }

    private static uint ParseNumber(string s)
    {
        bool hex = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        return uint.TryParse(hex ? s[2..] : s, hex ? NumberStyles.HexNumber : NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v : throw new TcParseException($"Illegal number \"{s}\"", s);
    }

    // ---------------------------------------------------------------------------------- actions

    /// <summary>`action KIND ARGS [CONTROL] [action KIND ...]`.</summary>
    private static List<TcAction> ParseActions(List<string> w, Func<string, string, Bpf.BpfProgram>? loadBpf)
    {
        var actions = new List<TcAction>();
        int i = 0;
        while (i < w.Count)
        {
            if (w[i] is not ("action" or "actions")) throw new TcParseException($"expected 'action', found '{w[i]}'", w[i]);
            i++;
            var kind = Need(w, i, "action kind");
            int end = i + 1;
            while (end < w.Count && w[end] is not ("action" or "actions")) end++;
            var args = w.Skip(i + 1).Take(end - i - 1).ToList();
            actions.Add(ParseAction(kind, args, loadBpf));
            i = end;
        }
        return actions;
    }

    private static TcAct? Control(string s) => s switch
    {
        "ok" or "pass" => TcAct.Ok, "drop" or "shot" => TcAct.Shot, "continue" => TcAct.Unspec, "pipe" => TcAct.Pipe,
        "reclassify" => TcAct.Reclassify, "trap" => TcAct.Trap,
        "stolen" => TcAct.Stolen, // how tc show prints a redirect's default (snapshots)
        _ => null,
    };

    internal static TcAction ParseAction(string kind, List<string> a, Func<string, string, Bpf.BpfProgram>? loadBpf = null)
    {
        if (Control(kind) is { } bare)
        {
            if (a.Count > 0) throw new TcParseException($"gact: unexpected '{a[0]}'", a[0]);
            return new GactAction { Control = bare };
        }
        switch (kind)
        {
            case "gact":
                if (a.Count != 1 || Control(a[0]) is not { } g) throw new TcParseException("gact needs one of pass, ok, drop, shot, continue, pipe, reclassify, trap", a.Count > 0 ? a[0] : kind);
                return new GactAction { Control = g };
            case "mirred": return ParseMirred(a);
            case "skbedit": return ParseSkbedit(a);
            case "vlan": return ParseVlan(a);
            case "bpf": return ParseActBpf(a, loadBpf ?? throw new TcParseException("act_bpf: no object files can be read here", kind));
            case "goto" or "jump": throw new TcParseException($"'{kind}' (chains, action jumps) is not modelled", kind);
            default: throw new TcParseException($"action '{kind}' is not modelled (gact, mirred, skbedit, vlan, bpf are)", kind);
        }
    }

    /// <summary>Reads a trailing CONTROL word; the default when there is none.</summary>
    private static TcAct TrailingControl(List<string> a, ref int i, TcAct dflt)
    {
        if (i >= a.Count) return dflt;
        if (a[i] is "goto" or "jump") throw new TcParseException($"'{a[i]}' (chains, action jumps) is not modelled", a[i]);
        var c = Control(a[i]) ?? throw new TcParseException($"unexpected '{a[i]}'", a[i]);
        i++;
        return c;
    }

    /// <summary>act_bpf: `obj FILE [sec|section NAME] [verbose] [CONTROL]`; iproute2's default section for an action is "action", the default control pipe.</summary>
    private static ActBpf ParseActBpf(List<string> a, Func<string, string, Bpf.BpfProgram> load)
    {
        string? file = null; string section = "action";
        int i = 0;
        for (; i < a.Count; i++)
        {
            switch (a[i])
            {
                case "obj" or "object-file": file = Need(a, ++i, "object file"); break;
                case "sec" or "section": section = Need(a, ++i, "section name"); break;
                case "verbose" or "verb": break;
                case "pinned" or "object-pinned" or "fd" or "bytecode" or "bytecode-file" or "bc":
                    throw new TcParseException($"unsupported: act_bpf {a[i]} (the model reads object files: obj FILE)", a[i]);
                default: goto control;
            }
        }
    control:
        if (file is null) throw new TcParseException("act_bpf: expected obj FILE", a.Count > 0 ? a[0] : "bpf");
        var c = TrailingControl(a, ref i, TcAct.Pipe);
        if (i < a.Count) throw new TcParseException($"bpf: unexpected '{a[i]}'", a[i]);
        return new ActBpf { Program = load(file, section), File = file, Control = c };
    }

    private static MirredAction ParseMirred(List<string> a)
    {
        int i = 0;
        var d = Need(a, i++, "egress|ingress");
        if (d is not ("egress" or "ingress")) throw new TcParseException("mirred: expected 'egress' or 'ingress'", d);
        var op = Need(a, i++, "redirect|mirror");
        if (op is not ("redirect" or "mirror")) throw new TcParseException("mirred: expected 'redirect' or 'mirror'", op);
        if (Need(a, i++, "'dev'") != "dev") throw new TcParseException("mirred: expected 'dev DEVICE'", a[i - 1]);
        var dev = Need(a, i++, "device");
        bool redirect = op == "redirect";
        var control = TrailingControl(a, ref i, redirect ? TcAct.Stolen : TcAct.Pipe);
        if (i < a.Count) throw new TcParseException($"mirred: unexpected '{a[i]}'", a[i]);
        return new MirredAction { Redirect = redirect, To = d == "egress" ? TcDirection.Egress : TcDirection.Ingress, Device = dev, Control = control };
    }

    private static SkbeditAction ParseSkbedit(List<string> a)
    {
        uint? mark = null, prio = null; uint mask = 0xFFFFFFFF; PacketType? ptype = null;
        int i = 0;
        for (; i < a.Count; i++)
        {
            switch (a[i])
            {
                case "mark":
                    var m = Need(a, ++i, "mark");
                    int slash = m.IndexOf('/');
                    mark = ParseNumber(slash < 0 ? m : m[..slash]);
                    if (slash >= 0) mask = ParseNumber(m[(slash + 1)..]);
                    break;
                case "priority":
                    var p = Need(a, ++i, "priority");
                    int colon = p.IndexOf(':');
                    prio = colon < 0 ? ParseHex(p) : ParseHex(p[..colon]) << 16 | ParseHex(p[(colon + 1)..]);
                    break;
                case "ptype":
                    var t = Need(a, ++i, "ptype");
                    ptype = t switch { "host" => PacketType.Host, "otherhost" => PacketType.OtherHost, "broadcast" => PacketType.Broadcast, "multicast" => PacketType.Multicast,
                        _ => throw new TcParseException("ptype: host, otherhost, broadcast or multicast", t) };
                    break;
                case "queue_mapping" or "inheritdsfield":
                    throw new TcParseException($"skbedit {a[i]} is not modelled", a[i]);
                default: goto control;
            }
        }
    control:
        if (mark is null && prio is null && ptype is null) throw new TcParseException("skbedit needs mark, priority or ptype", a.Count > 0 ? a[0] : "skbedit");
        var c = TrailingControl(a, ref i, TcAct.Pipe);
        if (i < a.Count) throw new TcParseException($"skbedit: unexpected '{a[i]}'", a[i]);
        return new SkbeditAction { Mark = mark, MarkMask = mask, Priority = prio, PacketType = ptype, Control = c };
    }

    private static uint ParseHex(string s) =>
        uint.TryParse(s.StartsWith("0x") ? s[2..] : s, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v) ? v : throw new TcParseException("Illegal priority", s);

    private static VlanAction ParseVlan(List<string> a)
    {
        int i = 0;
        var op = Need(a, i++, "pop|push|modify");
        ushort id = 0, tpid = EtherTypes.Vlan; byte prio = 0;
        if (op is not ("pop" or "push" or "modify")) throw new TcParseException($"vlan {op} is not modelled (pop, push, modify are)", op);
        for (; i < a.Count && op != "pop"; i++)
        {
            switch (a[i])
            {
                case "id":
                    var v = Need(a, ++i, "id");
                    id = ushort.TryParse(v, out var x) && x < 4096 ? x : throw new TcParseException("Illegal \"id\"", v);
                    break;
                case "protocol":
                    var pr = Need(a, ++i, "protocol");
                    tpid = TcNames.ParseProtocol(pr) is { } t && t is EtherTypes.Vlan or 0x88A8 ? t : throw new TcParseException("vlan protocol: 802.1Q or 802.1ad", pr);
                    break;
                case "priority":
                    var p = Need(a, ++i, "priority");
                    prio = byte.TryParse(p, out var y) && y < 8 ? y : throw new TcParseException("Illegal \"priority\"", p);
                    break;
                default: goto control;
            }
        }
    control:
        if (op != "pop" && id == 0) throw new TcParseException($"vlan {op} needs 'id VID'", op);
        var c = TrailingControl(a, ref i, TcAct.Pipe);
        if (i < a.Count) throw new TcParseException($"vlan: unexpected '{a[i]}'", a[i]);
        return new VlanAction { Op = op, Id = id, Tpid = tpid, PushPriority = prio, Control = c };
    }
}
