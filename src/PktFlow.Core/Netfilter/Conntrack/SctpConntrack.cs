using PktFlow.Wire;

namespace PktFlow.Netfilter.Conntrack;

/// <summary>enum sctp_conntrack as 6.18 uses it (HEARTBEAT_ACKED is gone: a secondary path's
/// HEARTBEAT_ACK makes the flow ESTABLISHED).</summary>
public enum SctpCtState : byte { None, Closed, CookieWait, CookieEchoed, Established, ShutdownSent, ShutdownRecd, ShutdownAckSent, HeartbeatSent }

/// <summary>
/// nf_conntrack_proto_sctp.c: the state table (sctp_conntracks[2][11][states]) indexed by direction,
/// the chunk types that move the state, and the current state; do_basic_checks, sctp_new and the
/// verification-tag checks of nf_conntrack_sctp_packet (RFC 9260 8.5). The table is restated here
/// from the kernel's documented transitions.
/// </summary>
internal static class SctpConntrack
{
    internal const byte Iv = 0xFF; // sIV (SCTP_CONNTRACK_MAX)

    private const byte No = (byte)SctpCtState.None, Cl = (byte)SctpCtState.Closed, Cw = (byte)SctpCtState.CookieWait,
        Ce = (byte)SctpCtState.CookieEchoed, Es = (byte)SctpCtState.Established, Ss = (byte)SctpCtState.ShutdownSent,
        Sr = (byte)SctpCtState.ShutdownRecd, Sa = (byte)SctpCtState.ShutdownAckSent, Hs = (byte)SctpCtState.HeartbeatSent;

    // Columns: NONE CLOSED COOKIE_WAIT COOKIE_ECHOED ESTABLISHED SHUTDOWN_SENT SHUTDOWN_RECD SHUTDOWN_ACK_SENT HEARTBEAT_SENT.
    private static readonly byte[][] Original =
    [
        /* init          */ [Cl, Cl, Cw, Ce, Es, Cl, Cl, Sa, Cw],
        /* init_ack      */ [Cl, Cl, Cw, Ce, Es, Ss, Sr, Sa, Cl],
        /* abort         */ [Cl, Cl, Cl, Cl, Cl, Cl, Cl, Cl, Cl],
        /* shutdown      */ [Cl, Cl, Cw, Ce, Ss, Ss, Sr, Sa, Cl],
        /* shutdown_ack  */ [Sa, Cl, Cw, Ce, Es, Sa, Sa, Sa, Sa],
        /* error         */ [Cl, Cl, Cw, Ce, Es, Ss, Sr, Sa, Cl],
        /* cookie_echo   */ [Cl, Cl, Ce, Ce, Es, Ss, Sr, Sa, Cl],
        /* cookie_ack    */ [Cl, Cl, Cw, Es, Es, Ss, Sr, Sa, Cl],
        /* shutdown_comp */ [Cl, Cl, Cw, Ce, Es, Ss, Sr, Cl, Cl],
        /* heartbeat     */ [Hs, Cl, Cw, Ce, Es, Ss, Sr, Sa, Hs],
        /* heartbeat_ack */ [Cl, Cl, Cw, Ce, Es, Ss, Sr, Sa, Hs],
    ];

    private static readonly byte[][] Reply =
    [
        /* init          */ [Iv, Cl, Cw, Ce, Es, Ss, Sr, Sa, Iv],
        /* init_ack      */ [Iv, Cw, Cw, Ce, Es, Ss, Sr, Sa, Iv],
        /* abort         */ [Iv, Cl, Cl, Cl, Cl, Cl, Cl, Cl, Iv],
        /* shutdown      */ [Iv, Cl, Cw, Ce, Sr, Ss, Sr, Sa, Iv],
        /* shutdown_ack  */ [Iv, Cl, Cw, Ce, Es, Sa, Sa, Sa, Iv],
        /* error         */ [Iv, Cl, Cw, Cl, Es, Ss, Sr, Sa, Iv],
        /* cookie_echo   */ [Iv, Cl, Ce, Ce, Es, Ss, Sr, Sa, Iv],
        /* cookie_ack    */ [Iv, Cl, Cw, Es, Es, Ss, Sr, Sa, Iv],
        /* shutdown_comp */ [Iv, Cl, Cw, Ce, Es, Ss, Sr, Cl, Iv],
        /* heartbeat     */ [Iv, Cl, Cw, Ce, Es, Ss, Sr, Sa, Hs],
        /* heartbeat_ack */ [Iv, Cl, Cw, Ce, Es, Ss, Sr, Sa, Es],
    ];

    /// <summary>sctp_new_state: chunks other than the eleven in the table (DATA, SACK, ...) keep the state.</summary>
    public static byte Next(CtDirection dir, SctpCtState current, byte chunkType)
    {
        int row = chunkType switch
        {
            SctpChunkType.Init => 0, SctpChunkType.InitAck => 1, SctpChunkType.Abort => 2, SctpChunkType.Shutdown => 3,
            SctpChunkType.ShutdownAck => 4, SctpChunkType.Error => 5, SctpChunkType.CookieEcho => 6, SctpChunkType.CookieAck => 7,
            SctpChunkType.ShutdownComplete => 8, SctpChunkType.Heartbeat => 9, SctpChunkType.HeartbeatAck => 10, _ => -1,
        };
        return row < 0 ? (byte)current : (dir == CtDirection.Original ? Original : Reply)[row][(int)current];
    }

    /// <summary>
    /// do_basic_checks: COOKIE_ECHO and COOKIE_ACK must be the first chunk, INIT, INIT_ACK and
    /// SHUTDOWN_COMPLETE the only one (nothing may follow them either), no chunk may have length 0, and
    /// there must be a chunk. Sets one bit per chunk type seen (types below 32: all conntrack tests).
    /// Returns why the packet is refused, or null.
    /// </summary>
    public static string? BasicChecks(in SctpHeader sh, out uint map)
    {
        map = 0;
        int count = 0;
        bool alone = false;
        foreach (var ch in sh.Chunks)
        {
            if (ch.Type is SctpChunkType.Init or SctpChunkType.InitAck or SctpChunkType.ShutdownComplete) alone = true;
            if ((ch.Type is SctpChunkType.CookieAck or SctpChunkType.CookieEcho || alone) && count != 0)
                return $"{SctpChunkType.Name(ch.Type)} bundled after another chunk";
            if (ch.Length == 0) return $"{SctpChunkType.Name(ch.Type)} with length 0";
            if (ch.Type < 32) map |= 1u << ch.Type;
            count++;
        }
        return count == 0 ? "no chunk" : null;
    }

    public static bool Has(uint map, byte type) => (map & (1u << type)) != 0;

    public static string StateName(SctpCtState s) => s switch
    {
        SctpCtState.None => "NONE",
        SctpCtState.Closed => "CLOSED",
        SctpCtState.CookieWait => "COOKIE_WAIT",
        SctpCtState.CookieEchoed => "COOKIE_ECHOED",
        SctpCtState.Established => "ESTABLISHED",
        SctpCtState.ShutdownSent => "SHUTDOWN_SENT",
        SctpCtState.ShutdownRecd => "SHUTDOWN_RECD",
        SctpCtState.ShutdownAckSent => "SHUTDOWN_ACK_SENT",
        SctpCtState.HeartbeatSent => "HEARTBEAT_SENT",
        _ => s.ToString(),
    };

    /// <summary>
    /// sctp_new for a packet without an entry: every chunk must be able to open one from NONE in the
    /// original direction, an INIT must carry tag 0 and gives the reply direction its tag (its
    /// Initiate Tag), a HEARTBEAT gives the original direction the packet's tag (a secondary path), any
    /// other chunk expects the reply to carry the packet's tag (RFC 9260 8.4 (5), (8)).
    /// </summary>
    public static string? New(ConntrackEntry ct, in SctpHeader sh)
    {
        foreach (var ch in sh.Chunks)
        {
            byte next = Next(CtDirection.Original, SctpCtState.None, ch.Type);
            if (next is No or Iv) return $"{SctpChunkType.Name(ch.Type)} cannot open an association and matches no tracked one";
            if (ch.Type == SctpChunkType.Init)
            {
                if (sh.VerificationTag != 0) return $"INIT with verification tag 0x{sh.VerificationTag:x8} (must be 0)";
                if (!ch.TryInitiateTag(out uint tag)) return "INIT cut before its initiate tag";
                ct.SctpVtag[(int)CtDirection.Reply] = tag;
            }
            else if (ch.Type == SctpChunkType.Heartbeat) ct.SctpVtag[(int)CtDirection.Original] = sh.VerificationTag;
            else ct.SctpVtag[(int)CtDirection.Reply] = sh.VerificationTag;
        }
        return null;
    }

    /// <summary>The chunk types exempt from the packet-level tag check (RFC 9260 8.5.1 special cases).</summary>
    private const uint TagCheckExempt = 1u << SctpChunkType.Init | 1u << SctpChunkType.ShutdownComplete | 1u << SctpChunkType.CookieEcho
        | 1u << SctpChunkType.Abort | 1u << SctpChunkType.ShutdownAck | 1u << SctpChunkType.Heartbeat | 1u << SctpChunkType.HeartbeatAck;

    /// <summary>
    /// The chunk loop of nf_conntrack_sctp_packet on an entry (new or confirmed): checks each chunk's
    /// tag rule, moves the state and notes the tags INIT and INIT_ACK announce. Returns why the packet
    /// is INVALID (states changed by earlier chunks stay, as in the kernel), or null; <paramref name="ignore"/>
    /// says the timeout is not refreshed (an INIT retransmitted in CLOSED, a HEARTBEAT on a new path).
    /// </summary>
    public static string? Packet(ConntrackEntry ct, CtDirection dir, in SctpHeader sh, uint map, out bool ignore)
    {
        ignore = false;
        int d = (int)dir, o = 1 - d;
        uint vtag = sh.VerificationTag;
        uint[] tags = ct.SctpVtag;
        if ((map & TagCheckExempt) == 0 && vtag != tags[d])
            return $"verification tag 0x{vtag:x8}, the {Dir(dir)} direction's is 0x{tags[d]:x8}";

        foreach (var ch in sh.Chunks)
        {
            string name = SctpChunkType.Name(ch.Type);
            switch (ch.Type)
            {
                case SctpChunkType.Init when vtag != 0:
                    return $"INIT with verification tag 0x{vtag:x8} (must be 0)";
                case SctpChunkType.Abort or SctpChunkType.ShutdownComplete:
                    // the T bit says the sender reflected the peer's tag
                    uint want = ch.TBit ? tags[o] : tags[d];
                    if (vtag != want) return $"{name}{(ch.TBit ? " (T bit)" : "")} with verification tag 0x{vtag:x8}, expected 0x{want:x8}";
                    break;
                case SctpChunkType.CookieEcho when vtag != tags[d]:
                    return $"COOKIE_ECHO with verification tag 0x{vtag:x8}, the INIT_ACK announced 0x{tags[d]:x8}";
                case SctpChunkType.CookieAck:
                    ct.SctpInit[0] = ct.SctpInit[1] = false;
                    break;
                case SctpChunkType.Heartbeat or SctpChunkType.HeartbeatAck:
                    if (tags[d] == 0) tags[d] = vtag;
                    else if (vtag != tags[d])
                    {
                        if (Has(map, SctpChunkType.Data) || ignore) return $"{name} with verification tag 0x{vtag:x8}, expected 0x{tags[d]:x8}";
                        if (ch.Type == SctpChunkType.Heartbeat)
                        {
                            // a path with another association's tag: let it through untimed, and let
                            // its HEARTBEAT_ACK from the other side move the tags
                            ct.SctpHeartbeatVtagFailed = true;
                            ct.SctpLastDirection = dir;
                            ignore = true;
                            continue;
                        }
                        if (!ct.SctpHeartbeatVtagFailed || ct.SctpLastDirection == dir)
                            return $"HEARTBEAT_ACK with verification tag 0x{vtag:x8}, expected 0x{tags[d]:x8}";
                        ct.SctpHeartbeatVtagFailed = false;
                        tags[d] = vtag;
                        tags[o] = 0;
                    }
                    else ct.SctpHeartbeatVtagFailed = false;
                    break;
            }

            var oldState = ct.SctpState;
            byte next = Next(dir, oldState, ch.Type);
            if (next == Iv) return $"{name} in {StateName(oldState)} ({Dir(dir)} direction)";

            if (ch.Type == SctpChunkType.Init)
            {
                if (!ch.TryInitiateTag(out uint tag)) return "INIT cut before its initiate tag";
                if (ct.SctpInit[d] && ct.SctpInit[o]) ct.SctpInit[o] = false;
                ct.SctpInit[d] = true;
                tags[o] = tag;
                // an INIT retransmitted in CLOSED does not keep the entry (and its NAT) alive
                if (next == Cl && oldState == SctpCtState.Closed && ct.Confirmed) ignore = true;
            }
            else if (ch.Type == SctpChunkType.InitAck)
            {
                if (!ch.TryInitiateTag(out uint tag)) return "INIT_ACK cut before its initiate tag";
                uint known = tags[o];
                if (!ct.SctpInit[o] && known != 0 && known != tag) return $"INIT_ACK announces tag 0x{tag:x8}, 0x{known:x8} is known";
                if (ct.SctpInit[d] && ct.SctpInit[o] && known != tag) return $"INIT_ACK announces tag 0x{tag:x8} in an INIT collision (0x{known:x8} is known)";
                tags[o] = tag;
            }

            ct.SctpState = (SctpCtState)next;
            if (oldState != ct.SctpState && ct.SctpState == SctpCtState.Established) ct.Assured = true;
        }
        return null;
    }

    private static string Dir(CtDirection dir) => dir == CtDirection.Original ? "original" : "reply";
}
