using PktFlow.Wire;

namespace PktFlow.Netfilter.Conntrack;

/// <summary>
/// The helper call of nf_confirm (net/netfilter/nf_conntrack_proto.c): at the last hook, before the
/// entry is confirmed, the connection's helper reads the packet (not a RELATED_REPLY one: an ICMP error
/// coming back). Its verdict is the packet's: NF_DROP ends it there.
/// </summary>
public static class NfConntrackHelper
{
    /// <summary>Runs the helper of <paramref name="info"/>'s connection, if any. Null when there is none;
    /// otherwise whether the packet goes on, what the helper did, and the packet (network header on) as a
    /// NAT helper rewrote it, or null when it did not.</summary>
    public static (bool Accept, string Function, string Detail, byte[]? Mangled)? Help(ConntrackTable table, CtLookup info, ReadOnlySpan<byte> network, bool ipv6, long nowNs)
    {
        if (info.Entry is not { Helper: { } helper } ct) return null;
        if (info.State == CtState.Related && info.Direction == CtDirection.Reply) return null;
        if (!ConntrackTable.TryGetL4(network, ipv6, out _, out _, out byte proto, out var l4, out _) || proto != helper.Protocol)
            return (true, helper.Function, $"helper {helper.Name}: not a {ConntrackProtocols.Name(helper.Protocol)} packet, nothing parsed", null);
        bool ok; string detail;
        byte[]? mangled = null;
        if (helper == ConntrackHelper.Ftp) ok = NfConntrackFtp.Help(table, ct, info, network, ipv6, l4, nowNs, out detail, out mangled);
        else ok = NfConntrackTftp.Help(table, ct, l4, nowNs, out detail);
        return (ok, helper.Function, $"helper {helper.Name}: {detail}", mangled);
    }

    /// <summary>
    /// nft_ct_helper_obj_eval / xt_CT's template: a connection not yet confirmed, of the helper's protocol,
    /// without a helper, takes it. Returns what happened, for the trace.
    /// </summary>
    public static string Assign(ConntrackEntry? ct, ConntrackHelper helper, byte packetProtocol)
    {
        if (ct is null) return "the packet has no conntrack entry, nothing is set";
        if (ct.Confirmed) return "the connection is already confirmed: its helper does not change";
        if (packetProtocol != helper.Protocol) return $"a {ConntrackProtocols.Name(packetProtocol)} connection: the {helper.Name} helper is for {ConntrackProtocols.Name(helper.Protocol)}, nothing is set";
        if (ct.Helper is { } had) return $"the connection already has the {had.Name} helper";
        ct.Helper = helper;
        return $"the new connection takes the {helper.Name} helper";
    }
}
