using System.Text;
using PktFlow.Datapath;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Wire;

namespace PktFlow.Netfilter;

/// <summary>
/// nf_nat_ftp (net/netfilter/nf_nat_ftp.c): on a NATed FTP control connection, the address and port a
/// PORT/EPRT command or a 227/229 reply announces are those the other side must use: the address this
/// packet goes to as the other side sees it, and a port the expectation could take (the announced one
/// when free). The text is rewritten (its length may change: sequence numbers are adjusted from then on)
/// and the expectation carries the NAT the data connection will get (nf_nat_follow_master).
/// </summary>
public static class NfNatFtp
{
    /// <summary>Returns false when the kernel drops the packet; <paramref name="mangled"/> is the rewritten packet (network header on).</summary>
    [KernelSymbol("nf_nat_ftp", "net/netfilter/nf_nat_ftp.c")]
    internal static bool Help(ConntrackTable table, ConntrackEntry ct, CtDirection dir, FtpMatch m, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> network, bool v6,
        uint seq, ConntrackTuple expected, long nowNs, string what, out string detail, out byte[]? mangled)
    {
        mangled = null;
        // "Connection will come from wherever this packet goes, hence !dir"
        var newAddress = (dir == CtDirection.Original ? ct.Reply : ct.Original).Destination;
        var natDir = dir == CtDirection.Original ? CtDirection.Reply : CtDirection.Original;
        var exp = new ConntrackExpectation(expected, ct, ConntrackHelper.Ftp, nowNs) { NatDirection = natDir, SavedPort = m.Port };
        // nf_nat_exp_find_port: the announced port first; only -EBUSY (a clash of different masks, which
        // ftp's expectations never have) tries others, so a refusal is final
        if (table.ExpectRelated(exp) is { } refused)
        {
            detail = $"{what}: nf_nat_ftp cannot add expectation {exp.Tuple} ({refused}): all ports in use, the kernel drops the packet";
            return false;
        }
        string text = Format(m.Command, newAddress, m.Port);
        string old = Encoding.ASCII.GetString(payload.Slice(m.Offset, m.Length));
        mangled = NfNatHelper.MangleTcpPacket(network, v6, m.Offset, m.Length, Encoding.ASCII.GetBytes(text));
        if (mangled is null)
        {
            table.UnexpectRelated(exp);
            detail = $"{what}: nf_nat_ftp cannot mangle packet (it would pass 65535 bytes): the kernel drops it";
            return false;
        }
        int delta = text.Length - m.Length;
        NfConntrackSeqadj.Set(ct, dir, seq, delta);
        detail = $"{what}: nf_nat_ftp rewrites `{old}' as `{text}'"
            + (delta == 0 ? " (same length)" : $" ({delta:+0;-0} bytes: later sequence numbers of the {dir.ToString().ToLowerInvariant()} direction move by it)")
            + $"; expectation {exp.Tuple} (any source port) for {ConntrackHelper.Ftp.ExpectTimeoutSeconds} s, its connection NATed to follow the master";
        return true;
    }

    /// <summary>nf_nat_ftp_fmt_cmd: the numbers of PORT and 227 (the address's first four bytes), EPRT's
    /// |1|a.b.c.d|port| or |2|v6|port| (%pI6: eight groups of four hex digits, nothing left out), EPSV's |||port|.</summary>
    public static string Format(FtpCommand command, IpAddr address, ushort port)
    {
        var a = new byte[16];
        address.Write(a);
        return command switch
        {
            FtpCommand.Port or FtpCommand.Pasv227 => $"{a[0]},{a[1]},{a[2]},{a[3]},{port >> 8},{port & 0xFF}",
            FtpCommand.Eprt when address.IsV4 => $"|1|{a[0]}.{a[1]}.{a[2]}.{a[3]}|{port}|",
            FtpCommand.Eprt => $"|2|{string.Join(':', Enumerable.Range(0, 8).Select(i => $"{a[2 * i]:x2}{a[2 * i + 1]:x2}"))}|{port}|",
            _ => $"|||{port}|",
        };
    }
}
