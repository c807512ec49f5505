using System.Net;
using System.Net.Sockets;
using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.Netfilter.Conntrack;

/// <summary>
/// What the FTP helper remembers of a control connection (struct nf_ct_ftp_master): per direction up
/// to two sequence numbers that follow a newline it saw. A segment is parsed only when it starts at one
/// of them, so a command split across segments, or the first line each side sends, is never parsed.
/// </summary>
internal sealed class FtpSeqState
{
    private const int Remember = 2; // NUM_SEQ_TO_REMEMBER
    private readonly uint[,] _seq = new uint[2, Remember];
    private readonly int[] _count = new int[2];

    /// <summary>find_nl_seq.</summary>
    public bool AfterNewline(uint seq, CtDirection dir)
    {
        for (int i = 0; i < _count[(int)dir]; i++)
            if (_seq[(int)dir, i] == seq) return true;
        return false;
    }

    /// <summary>update_nl_seq: remember <paramref name="seq"/> unless known; when full, it replaces the
    /// older of the two if it is later (sequence arithmetic, as before()/after() compare).</summary>
    public void Update(uint seq, CtDirection dir)
    {
        int d = (int)dir;
        for (int i = 0; i < _count[d]; i++)
            if (_seq[d, i] == seq) return;
        if (_count[d] < Remember) { _seq[d, _count[d]++] = seq; return; }
        int oldest = (int)(_seq[d, 0] - _seq[d, 1]) < 0 ? 0 : 1;
        if ((int)(_seq[d, oldest] - seq) < 0) _seq[d, oldest] = seq;
    }
}

/// <summary>The command or reply the FTP helper found at the start of a segment (enum nf_ct_ftp_type).</summary>
public enum FtpCommand { Port, Eprt, Pasv227, Epsv229 }

/// <summary>What <see cref="NfConntrackFtp.FindPattern"/> made of a segment: no command, a partial one
/// (the kernel drops the packet), or a command with the address and port it announces, and where in the
/// payload the text that says them is (matchoff, matchlen: what nf_nat_ftp rewrites).</summary>
public readonly record struct FtpMatch(int Found, FtpCommand Command, IpAddr Address, ushort Port, int Offset = 0, int Length = 0)
{
    public bool IsMatch => Found > 0;
    public bool IsPartial => Found < 0;
}

/// <summary>
/// nf_conntrack_ftp (net/netfilter/nf_conntrack_ftp.c): on a connection with the ftp helper, every packet
/// that reaches nf_confirm after traffic went both ways is searched, at the start of its payload, for
/// PORT and EPRT (from the client, original direction) or the 227 and 229 replies (from the server); the
/// address and port found become an expectation for the data connection, which then is RELATED.
/// </summary>
public static class NfConntrackFtp
{
    private static readonly (string Pattern, char Skip, char Term, FtpCommand Type)[] Original =
        [("PORT", ' ', '\r', FtpCommand.Port), ("EPRT", ' ', '\r', FtpCommand.Eprt)];
    private static readonly (string Pattern, char Skip, char Term, FtpCommand Type)[] Reply =
        [("227 ", '\0', '\0', FtpCommand.Pasv227), ("229 ", '(', ')', FtpCommand.Epsv229)];

    /// <summary>
    /// help(): what the helper does with one packet of the control connection. Returns false when the
    /// kernel drops it (a partial command, an expectation it cannot add), and what happened, for the trace.
    /// </summary>
    [KernelSymbol("help", "net/netfilter/nf_conntrack_ftp.c")]
    internal static bool Help(ConntrackTable table, ConntrackEntry ct, CtLookup info, ReadOnlySpan<byte> network, bool v6, ReadOnlySpan<byte> l4, long nowNs,
        out string detail, out byte[]? mangled)
    {
        mangled = null;
        // "Until there's been traffic both ways, don't look in packets."
        if (info.State != CtState.Established) { detail = $"not parsed: ct state {info.State.ToString().ToLowerInvariant()} (only established packets are)"; return true; }
        if (!TcpHeader.TryParse(l4, out var th, out _) || th.HeaderLength < TcpHeader.MinHeaderLength || th.HeaderLength >= l4.Length)
        {
            detail = "no payload";
            return true;
        }
        var data = l4[th.HeaderLength..];
        var dir = info.Direction;
        var state = ct.Ftp ??= new FtpSeqState();
        uint seq = th.SequenceNumber;
        bool endsInNewline = data[^1] == (byte)'\n';
        bool ok = true;
        if (!state.AfterNewline(seq, dir))
            detail = $"not parsed: seq {seq} does not follow a newline the helper saw in this direction (the first line each side sends, or the rest of a split line)";
        else ok = Parse(table, ct, dir, data, new NatContext(network, v6, seq), nowNs, out detail, out mangled);
        if (!ok) return false; // the kernel skips the newline update on this path
        if (endsInNewline) state.Update(seq + (uint)data.Length, dir);
        return true;
    }

    /// <summary>The packet as nf_nat_ftp needs it: the network header on, its family, the segment's sequence number.</summary>
    private readonly ref struct NatContext(ReadOnlySpan<byte> network, bool v6, uint seq)
    {
        public readonly ReadOnlySpan<byte> Network = network;
        public readonly bool V6 = v6;
        public readonly uint Seq = seq;
    }

    /// <summary>The search and the expectation; false when the kernel drops the packet.</summary>
    private static bool Parse(ConntrackTable table, ConntrackEntry ct, CtDirection dir, ReadOnlySpan<byte> data, NatContext pkt, long nowNs, out string detail, out byte[]? mangled)
    {
        mangled = null;
        var self = dir == CtDirection.Original ? ct.Original : ct.Reply;
        var other = dir == CtDirection.Original ? ct.Reply : ct.Original;
        var m = FindPattern(data, dir, self.Source);
        if (m.IsPartial)
        {
            detail = $"partial matching of `{Pattern(m.Command)}': the kernel drops the packet (nf_ct_helper_log)";
            return false;
        }
        if (!m.IsMatch) { detail = "no PORT/EPRT/227/229 at the start of the payload"; return true; }
        string what = $"{Name(m.Command)} announces {m.Address.WithPort(m.Port)}";
        if (m.Address != self.Source)
        {
            // Not loose (the module parameter, off): an address other than the sender's is not expected.
            detail = $"{what}, not the sender's address {self.Source}: no expectation (loose=0)";
            return true;
        }
        var expected = new ConntrackTuple(other.Source, other.Destination, IpProtocol.Tcp, 0, m.Port);
        // nf_nat_ftp_hook: a NATed connection's command is rewritten and its expectation registered by NAT
        if (ct.SourceNat || ct.DestinationNat)
            return NfNatFtp.Help(table, ct, dir, m, data, pkt.Network, pkt.V6, pkt.Seq, expected, nowNs, what, out detail, out mangled);
        var exp = new ConntrackExpectation(expected, ct, ConntrackHelper.Ftp, nowNs);
        if (table.ExpectRelated(exp) is { } refused)
        {
            detail = $"{what}: cannot add expectation ({refused}): the kernel drops the packet";
            return false;
        }
        detail = $"{what}: expectation {exp.Tuple} (any source port) for {ConntrackHelper.Ftp.ExpectTimeoutSeconds} s";
        return true;
    }

    internal static string Name(FtpCommand c) => c switch { FtpCommand.Port => "PORT", FtpCommand.Eprt => "EPRT", FtpCommand.Pasv227 => "227", _ => "229" };

    /// <summary>The search pattern as the kernel logs it ("227 " with its space).</summary>
    private static string Pattern(FtpCommand c) => c is FtpCommand.Pasv227 or FtpCommand.Epsv229 ? Name(c) + " " : Name(c);


    /// <summary>
    /// find_pattern over the patterns of one direction, tried in order until one says something: 1 with
    /// the address and port, -1 for a partial match (a payload shorter than the pattern that starts like
    /// it, no skip character, numbers that do not parse), 0 for none. <paramref name="sender"/> is the
    /// address a 229 reply means (it names only a port).
    /// </summary>
    public static FtpMatch FindPattern(ReadOnlySpan<byte> data, CtDirection dir, IpAddr sender)
    {
        var patterns = dir == CtDirection.Original ? Original : Reply;
        foreach (var (pattern, skip, term, type) in patterns)
        {
            int found = FindOne(data, pattern, skip, term, type, sender, out var addr, out var port, out int offset, out int length);
            if (found != 0) return new FtpMatch(found, type, addr, port, offset, length);
        }
        return new FtpMatch(0, patterns[^1].Type, sender, 0);
    }

    private static int FindOne(ReadOnlySpan<byte> data, string pattern, char skip, char term, FtpCommand type, IpAddr sender, out IpAddr addr, out ushort port,
        out int offset, out int length)
    {
        addr = sender;
        port = 0;
        offset = length = 0;
        int plen = pattern.Length;
        if (data.Length <= plen) return StartsWithIgnoreCase(data, pattern, data.Length) ? -1 : 0;
        if (!StartsWithIgnoreCase(data, pattern, plen)) return 0;
        int i = plen;
        if (skip != '\0')
        {
            for (; data[i] != skip; i++)
                if (i == data.Length - 1) return -1;
            i++;
        }
        var rest = data[i..];
        offset = i;
        int len = type switch
        {
            FtpCommand.Port => TryRfc959(rest, term, out addr, out port),
            FtpCommand.Pasv227 => TryRfc1123(rest, out addr, out port, ref offset),
            FtpCommand.Eprt => TryEprt(rest, sender.IsV6, ref addr, out port),
            _ => TryEpsvResponse(rest, out port),
        };
        length = len;
        return len == 0 ? -1 : 1;
    }

    private static bool StartsWithIgnoreCase(ReadOnlySpan<byte> data, string pattern, int n)
    {
        for (int i = 0; i < n; i++)
            if (char.ToLowerInvariant((char)data[i]) != char.ToLowerInvariant(pattern[i])) return false;
        return true;
    }

    /// <summary>try_number: <paramref name="values"/> numbers separated by <paramref name="sep"/>, ended by
    /// <paramref name="term"/> (any other character when it is 0) after the last; the count of characters
    /// read, or 0. Numbers are 32-bit and wrap, as the kernel's u32 do.</summary>
    private static int TryNumber(ReadOnlySpan<byte> data, Span<uint> values, char sep, char term)
    {
        values.Clear();
        int i = 0;
        for (int len = 0; len < data.Length && i < values.Length; len++)
        {
            char c = (char)data[len];
            if (c is >= '0' and <= '9') values[i] = unchecked(values[i] * 10 + (uint)(c - '0'));
            else if (c == sep) i++;
            else return (c == term || term == '\0') && i == values.Length - 1 ? len : 0;
        }
        return 0;
    }

    /// <summary>try_rfc959: a1,a2,a3,a4,p1,p2.</summary>
    private static int TryRfc959(ReadOnlySpan<byte> data, char term, out IpAddr addr, out ushort port)
    {
        Span<uint> v = stackalloc uint[6];
        int len = TryNumber(data, v, ',', term);
        addr = IpAddr.V4(unchecked(v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3]));
        port = unchecked((ushort)(v[4] << 8 | v[5]));
        return len;
    }

    /// <summary>try_rfc1123: the numbers start at the first digit (RFC 1123 4.1.2.6: the parentheses are optional).</summary>
    private static int TryRfc1123(ReadOnlySpan<byte> data, out IpAddr addr, out ushort port, ref int offset)
    {
        int i = 0;
        while (i < data.Length && !char.IsAsciiDigit((char)data[i])) i++;
        if (i == data.Length) { addr = default; port = 0; return 0; }
        offset += i; // the numbers nf_nat_ftp rewrites start at the first digit
        return TryRfc959(data[i..], '\0', out addr, out port);
    }

    /// <summary>get_port: digits up to the delimiter (not 0); the index after it, or 0.</summary>
    private static int GetPort(ReadOnlySpan<byte> data, int start, char delim, out ushort port)
    {
        port = 0;
        ushort tmp = 0;
        for (int i = start; i < data.Length; i++)
        {
            char c = (char)data[i];
            if (c == delim)
            {
                if (tmp == 0) break;
                port = tmp;
                return i + 1;
            }
            if (c is >= '0' and <= '9') tmp = unchecked((ushort)(tmp * 10 + (c - '0')));
            else break;
        }
        return 0;
    }

    private static bool BadDelimiter(char d) => char.IsAsciiDigit(d) || d < 33 || d > 126;

    /// <summary>try_eprt (RFC 2428): |1|a.b.c.d|port| on an IPv4 connection, |2|v6addr|port| on an IPv6 one.</summary>
    private static int TryEprt(ReadOnlySpan<byte> data, bool ipv6, ref IpAddr addr, out ushort port)
    {
        port = 0;
        if (data.Length <= 3) return 0;
        char delim = (char)data[0];
        if (BadDelimiter(delim) || data[2] != delim) return 0;
        if (data[1] != (ipv6 ? '2' : '1')) return 0;
        int length;
        if (!ipv6)
        {
            Span<uint> v = stackalloc uint[4];
            length = TryNumber(data[3..], v, '.', delim);
            if (length != 0) addr = IpAddr.V4(unchecked(v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3]));
        }
        else
        {
            // in6_pton up to the delimiter
            var rest = data[3..];
            int end = rest.IndexOf((byte)delim);
            length = 0;
            if (end > 0 && IPAddress.TryParse(System.Text.Encoding.ASCII.GetString(rest[..end]), out var ip)
                && ip.AddressFamily == AddressFamily.InterNetworkV6 && ip.ScopeId == 0 && !rest[..end].Contains((byte)'%'))
            {
                addr = IpAddr.From(ip);
                length = end;
            }
        }
        if (length == 0) return 0;
        return GetPort(data, 3 + length + 1, delim, out port);
    }

    /// <summary>try_epsv_response (RFC 2428): |||port|; the address is the server's own.</summary>
    private static int TryEpsvResponse(ReadOnlySpan<byte> data, out ushort port)
    {
        port = 0;
        if (data.Length <= 3) return 0;
        char delim = (char)data[0];
        if (BadDelimiter(delim) || data[1] != delim || data[2] != delim) return 0;
        return GetPort(data, 3, delim, out port);
    }
}
