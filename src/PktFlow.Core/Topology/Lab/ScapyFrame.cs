using System.Globalization;
using PktFlow.Wire;

namespace PktFlow.Topology.Lab;

/// <summary>
/// Reads what the model needs of a scapy frame expression (`Ether(...)/IP(src='10.1.0.2', dst='10.1.0.1',
/// id=7)/TCP(sport=40001, dport=80, flags='S', seq=1000)`, as tests/Kernel/bin/sendframe evaluates
/// it): the first IP or IPv6 layer and the TCP, UDP or echo request layer right after it, with scapy's
/// defaults for the fields left out (IP id 1; TCP ports 20 -> 80, flags S, seq 0; UDP ports 53 -> 53;
/// echo id and seq 0). Only keyword arguments with literal values are read: anything else in those
/// two layers is refused, so a frame is never guessed.
/// </summary>
public static class ScapyFrame
{
    /// <summary>
    /// The raw frame <paramref name="expression"/> sends: null with <paramref name="refused"/> null when
    /// it is no TCP, UDP or echo request over IP (ARP, an ICMP error, another protocol: no socket sends
    /// those), null with a reason when a field the model needs is not a literal it can read.
    /// </summary>
    public static RawFrame? Read(string expression, string source, out string? refused)
    {
        refused = null;
        var layers = SplitTop(expression, '/');
        int ip = layers.FindIndex(l => Name(l) is "IP" or "IPv6");
        if (ip < 0 || ip + 1 >= layers.Count) return null;
        bool v6 = Name(layers[ip]) == "IPv6";
        var l4Name = Name(layers[ip + 1]);
        byte? proto = l4Name switch
        {
            "TCP" => IpProtocol.Tcp,
            "UDP" => IpProtocol.Udp,
            "ICMP" when !v6 => IpProtocol.Icmp,
            "ICMPv6EchoRequest" when v6 => IpProtocol.Icmpv6,
            _ => null,
        };
        if (proto is null) return null;
        try
        {
            var net = Args(layers[ip]);
            var l4 = Args(layers[ip + 1]);
            // IP(proto=N) / IPv6(nh=N) other than the next layer's: the header says another protocol
            if (net.TryGetValue(v6 ? "nh" : "proto", out var p) && Number(p, "protocol") != proto) return null;
            if (proto == IpProtocol.Icmp && l4.TryGetValue("type", out var type) && Number(type, "ICMP type") != IcmpHeader.EchoRequest) return null;
            IpAddr? src = net.TryGetValue("src", out var s) ? Address(s, v6) : null;
            IpAddr? dst = net.TryGetValue("dst", out var d) ? Address(d, v6) : null;
            ushort? id = v6 ? null : (ushort)Field(net, "id", 1, ushort.MaxValue);
            bool tcp = proto == IpProtocol.Tcp, udp = proto == IpProtocol.Udp;
            if (!tcp && !udp)
                return new RawFrame(proto.Value, src, (ushort)Field(l4, "id", 0, ushort.MaxValue), dst, 0, source)
                    { IpId = id, Seq = (uint)Field(l4, "seq", 0, ushort.MaxValue) };
            return new RawFrame(proto.Value, src, (ushort)Field(l4, "sport", tcp ? 20 : 53, ushort.MaxValue), dst, (ushort)Field(l4, "dport", tcp ? 80 : 53, ushort.MaxValue), source)
            {
                IpId = id,
                TcpFlags = tcp ? Flags(l4) : (byte)0,
                Seq = tcp ? (uint)Field(l4, "seq", 0, uint.MaxValue) : 0,
            };
        }
        catch (FormatException e)
        {
            refused = e.Message;
            return null;
        }
    }

    /// <summary>A layer's name: `IP` of `IP(src='10.1.0.2')`.</summary>
    private static string Name(string layer)
    {
        var t = layer.Trim();
        int paren = t.IndexOf('(');
        return paren < 0 ? t : t[..paren].Trim();
    }

    /// <summary>A layer's keyword arguments, values as written (quotes kept).</summary>
    private static Dictionary<string, string> Args(string layer)
    {
        var t = layer.Trim();
        int open = t.IndexOf('(');
        if (open < 0) return new();
        if (!t.EndsWith(')')) throw new FormatException($"{t}: not a layer NAME(field=value, ...)");
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var a in SplitTop(t[(open + 1)..^1], ','))
        {
            if (a.Trim().Length == 0) continue;
            int eq = a.IndexOf('=');
            if (eq <= 0) throw new FormatException($"{Name(t)}({a.Trim()}): a field given by position");
            args[a[..eq].Trim()] = a[(eq + 1)..].Trim();
        }
        return args;
    }

    private static long Field(Dictionary<string, string> args, string name, long fallback, long max) =>
        args.TryGetValue(name, out var v) ? Number(v, name) is var n && n <= max ? n : throw new FormatException($"{name}={v}: out of range") : fallback;

    private static long Number(string v, string what)
    {
        bool hex = v.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        return long.TryParse(hex ? v[2..] : v, hex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n : throw new FormatException($"{what} {v}: not a number literal");
    }

    private static IpAddr Address(string v, bool v6) =>
        Unquote(v) is { } text && IpAddr.TryParse(text, out var a) && a.IsV6 == v6 ? a : throw new FormatException($"{v}: not an {(v6 ? "IPv6" : "IPv4")} address literal");

    /// <summary>TCP flags as scapy takes them: letters of FSRPAUEC, or a number.</summary>
    private static byte Flags(Dictionary<string, string> l4)
    {
        if (!l4.TryGetValue("flags", out var v)) return (byte)TcpFlags.Syn;
        if (Unquote(v) is not { } letters) return (byte)Field(l4, "flags", 0, byte.MaxValue);
        byte f = 0;
        foreach (var c in letters)
            f |= "FSRPAUEC".IndexOf(c) is >= 0 and var bit ? (byte)(1 << bit) : throw new FormatException($"flags={v}: not a TCP flag letter '{c}'");
        return f;
    }

    private static string? Unquote(string v) =>
        v.Length >= 2 && v[0] is '\'' or '"' && v[^1] == v[0] ? v[1..^1] : null;

    /// <summary>Splits at <paramref name="sep"/> outside parentheses, brackets and quotes.</summary>
    internal static List<string> SplitTop(string text, char sep)
    {
        var parts = new List<string>();
        int depth = 0, start = 0;
        char quote = '\0';
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quote != '\0') { if (c == '\\') i++; else if (c == quote) quote = '\0'; continue; }
            switch (c)
            {
                case '\'' or '"': quote = c; break;
                case '(' or '[' or '{': depth++; break;
                case ')' or ']' or '}': depth--; break;
                default:
                    if (c == sep && depth == 0) { parts.Add(text[start..i]); start = i + 1; }
                    break;
            }
        }
        parts.Add(text[start..]);
        return parts;
    }
}
