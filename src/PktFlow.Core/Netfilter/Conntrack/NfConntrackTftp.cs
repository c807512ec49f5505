using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.Netfilter.Conntrack;

/// <summary>
/// nf_conntrack_tftp (net/netfilter/nf_conntrack_tftp.c): a read or write request (opcode 1 or 2, RFC
/// 1350) on a connection with the tftp helper makes an expectation for the server's answer, which comes
/// from another port: the reply tuple's addresses and destination port, any source port.
/// </summary>
public static class NfConntrackTftp
{
    public const ushort ReadRequest = 1, WriteRequest = 2;

    [KernelSymbol("tftp_help", "net/netfilter/nf_conntrack_tftp.c")]
    internal static bool Help(ConntrackTable table, ConntrackEntry ct, ReadOnlySpan<byte> l4, long nowNs, out string detail)
    {
        // the opcode follows the UDP header; a datagram too short for it is left alone
        if (l4.Length < UdpHeader.HeaderLength + 2) { detail = "no TFTP opcode"; return true; }
        ushort opcode = (ushort)(l4[UdpHeader.HeaderLength] << 8 | l4[UdpHeader.HeaderLength + 1]);
        if (opcode is not (ReadRequest or WriteRequest)) { detail = $"TFTP opcode {opcode}: nothing to expect"; return true; }
        string what = opcode == ReadRequest ? "read request" : "write request";
        var r = ct.Reply;
        var exp = new ConntrackExpectation(new ConntrackTuple(r.Source, r.Destination, IpProtocol.Udp, 0, r.DestinationPort), ct, ConntrackHelper.Tftp, nowNs);
        // nf_nat_tftp (net/netfilter/nf_nat_tftp.c) on a NATed connection: the same expectation, its
        // connection NATed to follow the master, towards the client's own port (saved_proto)
        bool nat = ct.SourceNat || ct.DestinationNat;
        if (nat) exp = new ConntrackExpectation(exp.Tuple, ct, ConntrackHelper.Tftp, nowNs) { NatDirection = CtDirection.Reply, SavedPort = ct.Original.SourcePort };
        if (table.ExpectRelated(exp) is { } refused)
        {
            detail = $"{what}: cannot add expectation ({refused}): the kernel drops the packet";
            return false;
        }
        detail = $"{what}: {(nat ? "nf_nat_tftp: " : "")}expectation {exp.Tuple} (any source port) for {ConntrackHelper.Tftp.ExpectTimeoutSeconds} s"
            + (nat ? $", the answer NATed to follow the master (to {ct.Original.Source}:{ct.Original.SourcePort})" : "");
        return true;
    }
}
