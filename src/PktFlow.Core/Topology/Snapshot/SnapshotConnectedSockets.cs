using System.Globalization;
using PktFlow.Wire;

namespace PktFlow.Topology.Snapshot;

/// <summary>
/// `ss -tunHe` (ss-connected.txt): the sockets a namespace holds connected to a peer, TCP in every
/// non-listening state (ESTAB, SYN-SENT, TIME-WAIT, ...) and connected UDP (ESTAB). Without `-a` ss
/// leaves out listeners and unconnected UDP sockets, which ss.txt has. ss lists no ping sockets (raw
/// ICMP sockets show no identifier), so ICMP flows are not declared here.
/// </summary>
internal static class SnapshotConnectedSockets
{
    public const string FileName = "ss-connected.txt";

    public static List<ClientSocket> Parse(string[] lines, string file)
    {
        var sockets = new List<ClientSocket>();
        foreach (var (f, line, Bad) in Lines(lines, file))
        {
            byte protocol = f[0] == "tcp" ? IpProtocol.Tcp : IpProtocol.Udp;
            if (!TryEndpoint(f[4], out var local, out var localPort, out _) || local is null)
                throw Bad("a local ADDRESS:PORT in the fifth column");
            // an unconnected socket (ss -a) has no peer: it names no flow
            if (f[5].EndsWith(":*", StringComparison.Ordinal)) continue;
            if (!TryEndpoint(f[5], out var peer, out var peerPort, out _) || peer is null)
                throw Bad("a peer ADDRESS:PORT in the sixth column");
            sockets.Add(new ClientSocket(protocol, local.Value.IsZero ? null : local, (ushort)localPort, peer.Value, (ushort)peerPort, $"{file}:{line}: ss"));
        }
        return sockets;
    }

    /// <summary>
    /// The socket lines of `ss -tu...H` output: at least PROTO STATE RECV-Q SEND-Q LOCAL PEER, PROTO tcp
    /// or udp; with the 1-based line number and an error naming the line.
    /// </summary>
    public static IEnumerable<(string[] Fields, int Line, Func<string, SnapshotException> Bad)> Lines(string[] lines, string file)
    {
        for (int i = 0; i < lines.Length; i++)
        {
            var text = lines[i].Trim();
            if (text.Length == 0) continue;
            int line = i + 1;
            SnapshotException Bad(string expected) => new(file, null, line, $"expected {expected}, got '{text}'");
            var f = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 6) throw Bad("'tcp|udp STATE RECV-Q SEND-Q LOCAL:PORT PEER:PORT'");
            if (f[0] is not ("tcp" or "udp")) throw Bad("'tcp' or 'udp' first");
            yield return (f, line, Bad);
        }
    }

    /// <summary>
    /// An address and port as `ss -n` prints them: `10.0.0.1:80`, `[2001:db8::1]:80`, `*:80` (null
    /// address: an IPv6 socket that also takes IPv4), `0.0.0.0%lo:53` (bound to a device), and
    /// `[::ffff:10.0.0.1]:80`, an IPv6 socket's IPv4-mapped address, as the IPv4 address.
    /// </summary>
    public static bool TryEndpoint(string text, out IpAddr? address, out int port, out string? device)
    {
        (address, port, device) = (null, 0, null);
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535) return false;
        var host = text[..colon];
        int pct = host.IndexOf('%'); // ss prints "0.0.0.0%lo", "*%lo", "[fe80::1]%eth0"
        if (pct >= 0)
        {
            var rest = host[(pct + 1)..];
            device = rest.TrimEnd(']');
            host = host[..pct] + (rest.EndsWith(']') ? "]" : "");
        }
        if (host == "*") return true;
        var literal = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        if (!IpAddr.TryParse(literal, out var a)) return false;
        if (a.IsV6 && a.Hi == 0 && a.Lo >> 32 == 0xFFFF) a = IpAddr.V4((uint)a.Lo);
        address = a;
        return true;
    }
}
