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
        if (ct.SourceNat || ct.DestinationNat)
        {
            detail = $"unsupported: TFTP NAT helper (nf_nat_tftp would register the expectation for the NATed connection): no expectation is modelled";
            return true;
        }
        var r = ct.Reply;
        var exp = new ConntrackExpectation(new ConntrackTuple(r.Source, r.Destination, IpProtocol.Udp, 0, r.DestinationPort), ct, ConntrackHelper.Tftp, nowNs);
        if (table.ExpectRelated(exp) is { } refused)
        {
            detail = $"{what}: cannot add expectation ({refused}): the kernel drops the packet";
            return false;
        }
        detail = $"{what}: expectation {exp.Tuple} (any source port) for {ConntrackHelper.Tftp.ExpectTimeoutSeconds} s";
        return true;
    }
}
