using System.Globalization;

namespace PktFlow.Topology.Lab;

/// <summary>
/// The socket options of a socat listening address that change what the kernel does with its packets
/// (socat 1.7.4's names, `socat -hhh`): `ip-transparent`, `so-priority=N` / `priority=N` (phase
/// PASTSOCKET: set on the listener, so its SYN-ACKs; accepted connections do not inherit it), `setsockopt-listen=L:O:V`
/// (PREBIND: the listener) and `setsockopt-int=L:O:N` / `setsockopt=L:O:V` (CONNECTED: each accepted
/// connection, after accept(), so not the SYN-ACK), with L:O one of 1:36 (SOL_SOCKET, SO_MARK),
/// 1:12 (SO_PRIORITY), 0:19 (SOL_IP, IP_TRANSPARENT). Checked on 6.18: `ss -e` shows the mark
/// (`fwmark:0x7`) of the listener or of the accepted connection accordingly.
/// </summary>
internal static class SocatSocketOptions
{
    private const int SolSocket = 1, SolIp = 0, SoMark = 36, SoPriority = 12, IpTransparent = 19;

    /// <summary>The socket with the options of <paramref name="options"/> applied; a setsockopt the model does not know is a warning.</summary>
    public static ListeningSocket Apply(ListeningSocket s, IEnumerable<string> options, Action<string> warn, Func<string, string, Exception> error)
    {
        foreach (var o in options)
        {
            var eq = o.IndexOf('=');
            var (name, value) = eq > 0 ? (o[..eq], o[(eq + 1)..]) : (o, "");
            switch (name)
            {
                case "ip-transparent" or "transparent":
                    s = s with { Transparent = value is "" or "1" };
                    break;
                case "so-priority" or "priority":
                    s = s with { Priority = Int(value) ?? throw error($"socat {name} needs a number", o) };
                    break;
                case "setsockopt-listen" or "sockopt-listen" or "setsockopt-int" or "sockopt-int" or "setsockopt" or "sockopt":
                {
                    var p = value.Split(':');
                    if (p.Length != 3 || Int(p[0]) is not { } level || Int(p[1]) is not { } opt)
                        throw error($"socat {name} needs LEVEL:OPTNAME:VALUE", o);
                    bool listener = name.EndsWith("-listen", StringComparison.Ordinal);
                    uint v = (name.EndsWith("-int", StringComparison.Ordinal) ? Int(p[2]) : Dalan(p[2]))
                        ?? throw error($"socat {name}: the value '{p[2]}' is not a 4-byte integer (N, iN or xHHHHHHHH)", o);
                    s = (level, opt) switch
                    {
                        (SolSocket, SoMark) => listener ? s with { Mark = v } : s with { AcceptedMark = v },
                        (SolSocket, SoPriority) => listener ? s with { Priority = v } : s with { AcceptedPriority = v },
                        (SolIp, IpTransparent) when listener => s with { Transparent = v != 0 },
                        _ => Unknown(s),
                    };
                    break;
                }
            }
        }
        if (s.Protocol == SocketProtocol.Udp && (s.AcceptedMark is not null || s.AcceptedPriority is not null))
            warn("socat setsockopt-int / setsockopt on a UDP address are applied when it connects to its first peer; the model takes the socket's own options (use setsockopt-listen, so-priority)");
        return s;

        ListeningSocket Unknown(ListeningSocket same)
        {
            warn("socat socket options other than SO_MARK (1:36), SO_PRIORITY (1:12) and IP_TRANSPARENT (0:19, setsockopt-listen) are not modelled: "
                + string.Join(",", options.Where(x => x.Contains("sockopt", StringComparison.Ordinal))));
            return same;
        }
    }

    private static uint? Int(string text) =>
        uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v
        : text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && uint.TryParse(text[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out v) ? v
        : null;

    /// <summary>socat's dalan notation for an int: N, iN, or xHHHHHHHH (the 4 bytes in memory order: little endian here).</summary>
    private static uint? Dalan(string text)
    {
        if (text.StartsWith('i')) return Int(text[1..]);
        if (text.StartsWith('x') && text.Length == 9 && uint.TryParse(text[1..], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var be))
            return System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(be);
        return Int(text);
    }
}
