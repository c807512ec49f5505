using PktFlow.Wire;

namespace PktFlow.Netfilter.Conntrack;

public sealed partial class ConntrackTable
{
    /// <summary>
    /// nf_conntrack_sctp_packet: sctp_error (length; the CRC32c of incoming packets when
    /// nf_conntrack_checksum is on), do_basic_checks, for a packet without an entry the out-of-the-blue
    /// rules and sctp_new, then the verification tag and the state machine (<see cref="SctpConntrack"/>).
    /// A refused packet is INVALID and leaves no new entry.
    /// </summary>
    private CtLookup InSctp(IpAddr src, IpAddr dst, ReadOnlySpan<byte> l4, long nowNs, ConntrackZone zone, bool preRouting)
    {
        if (!SctpHeader.TryParse(l4, out var sh, out _)) return Invalid($"invalid: SCTP packet too short ({l4.Length} bytes)");
        if (preRouting && Settings.Checksum && sh.Checksum != sh.ComputeChecksum())
            return Invalid($"invalid: SCTP bad CRC32c 0x{sh.Checksum:x8}, should be 0x{sh.ComputeChecksum():x8} (nf_conntrack_checksum)");
        if (SctpConntrack.BasicChecks(sh, out uint map) is { } malformed) return Invalid($"invalid: SCTP {malformed}");

        var tuple = new ConntrackTuple(src, dst, IpProtocol.Sctp, sh.SourcePort, sh.DestinationPort);
        var e = Lookup(tuple, zone, out var dir);
        bool fresh = e is null;
        if (e is null)
        {
            // RFC 9260 8.4: an out-of-the-blue ABORT, SHUTDOWN_COMPLETE or COOKIE_ACK opens nothing
            foreach (byte type in (ReadOnlySpan<byte>)[SctpChunkType.Abort, SctpChunkType.ShutdownComplete, SctpChunkType.CookieAck])
                if (SctpConntrack.Has(map, type)) return Invalid($"invalid: SCTP {SctpChunkType.Name(type)} out of the blue matches no tracked association");
            e = Create(tuple, zone, nowNs, NewTimeouts.SctpTimeoutClosed);
            if (SctpConntrack.New(e, sh) is { } refused) return Invalid($"invalid: SCTP {refused}");
        }

        var before = e.SctpState;
        if (SctpConntrack.Packet(e, dir, sh, map, out bool ignore) is { } why) return Invalid($"invalid: SCTP {why}");
        var after = e.SctpState;
        string detail = before == after ? $"SCTP in {SctpConntrack.StateName(after)}" : $"SCTP {SctpConntrack.StateName(before)} -> {SctpConntrack.StateName(after)}";
        if (fresh) detail = "new sctp association: " + detail;
        else if (dir == CtDirection.Reply) detail = $"reply to {Where(e.Original)}: {detail}";
        if (before != after && after == SctpCtState.Established) detail += "; ASSURED";
        if (ignore) detail += " (timeout not refreshed)";
        else Refresh(e, nowNs, Timeouts(e).SctpTimeout(after));
        return fresh ? new CtLookup(e, CtState.New, CtDirection.Original, detail) : Accepted(e, dir, nowNs, detail);
    }
}
