namespace PktFlow.Netfilter.Conntrack;

/// <summary>
/// struct nf_conn_synproxy (include/net/netfilter/nf_conntrack_synproxy.h): what the synproxy hook keeps
/// for a connection it opened to the server on the client's behalf. <see cref="Isn"/> is the cookie the
/// client was given (the SYN to the server carries it in its acknowledgment field), <see cref="Its"/> the
/// timestamp the host's SYN-ACK carried, <see cref="Tsoff"/> how far the server's clock is from it.
/// </summary>
internal sealed class ConntrackSynproxy
{
    public uint Isn;
    public uint Its;
    public uint Tsoff;
    /// <summary>
    /// The window of the SYN sent to the server: the only original-direction packet conntrack has seen when
    /// the server's SYN-ACK comes, hence state->seen[IP_CT_DIR_ORIGINAL].td_maxwin, which the ACK to the
    /// server advertises (synproxy_send_server_ack).
    /// </summary>
    public ushort SynWindow;
}

/// <summary>nf_ct_seqadj_init (net/netfilter/nf_conntrack_seqadj.c): one direction's offset, before and after alike.</summary>
internal static class NfConntrackSeqadjInit
{
    [Datapath.KernelSymbol("nf_ct_seqadj_init", "net/netfilter/nf_conntrack_seqadj.c")]
    public static void Init(ConntrackEntry ct, CtDirection dir, int off)
    {
        // off == 0 sets nothing, not even IPS_SEQ_ADJUST
        if (off == 0) return;
        (ct.SeqAdj ??= new ConntrackSeqAdj()).Init(dir, off);
    }
}
