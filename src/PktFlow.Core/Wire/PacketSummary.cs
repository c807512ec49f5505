using System.Buffers.Binary;

namespace PktFlow.Wire;

// One-line packet descriptions in the format tcpdump prints with -n (no timestamp, no -e link
// header), measured against tcpdump 4.99.3 (TestData/wire/samples.pcap, 100%) and against the
// expected outputs of tcpdump's own test suite (../shared/conformance/pcaps-tcpdump). Each printer
// below is named after tcpdump's and cites the RFC of the header it reads.

/// <summary>
/// tcpdump -n style one-line summaries of captured packets, for traces and test comparisons. Never
/// throws on malformed input; truncated and malformed headers print tcpdump's markers ("[|tcp]",
/// "truncated-ip - N bytes missing!", "bad-hlen 12"...). Allocation-free when written into a span.
/// </summary>
/// <remarks>
/// <para>Covered as tcpdump prints them: Ethernet (VLAN tags of any depth are skipped, as tcpdump
/// does without -e), ARP/RARP, LLDP (length only), IPv4 (fragments, bad version/IHL/length),
/// IPv6 with hop-by-hop, destination options, routing (types 0, 2, 4) and fragment headers, IPIP,
/// 6in4, GRE v0, ESP, AH, IGMP v1-v3, ICMP, ICMPv6 (errors, echo, ND, MLD), TCP with every option
/// tcpdump names (MSS, wscale, SACK, TS, TFO, MPTCP capable/DSS, md5, uto, unknown), UDP.</para>
/// <para>Application payloads: DNS on port 53 over UDP and TCP (header flags and counts, the
/// question, A/AAAA/CNAME/NS/PTR/MX answers), TFTP requests on port 69, the SSH banner on port 22,
/// the HTTP request/status line on ports 80, 8080 and 3128. Every other UDP port prints
/// "UDP, length N" (tcpdump's form for ports it has no decoder for) and other TCP payloads only
/// their length; tcpdump decodes many more (NTP, DHCP, SNMP, VXLAN/Geneve, NFS, PPTP, STP/LLC,
/// PPPoE...), so those lines differ.</para>
/// <para>Where tcpdump versions differ, 4.99.3 (Debian 12) is followed, except MPTCP's MP_CAPABLE,
/// printed with the "flags [H]" and data_len of newer releases as in tcpdump's test suite.</para>
/// <para>TCP sequence numbers are absolute unless a <see cref="PacketSummarySession"/> is passed,
/// which keeps tcpdump's per-conversation state to print them relative to the first ACK-bearing
/// packet (tcpdump's default; without a session the output matches tcpdump -S).</para>
/// </remarks>
public static class PacketSummary
{
    /// <summary>Longest summary produced (longer ones are cut).</summary>
    public const int MaxLength = 1024;

    /// <summary>Summarises one packet. <paramref name="etherTypeIfNoEthernet"/> is 0 when data starts
    /// with an Ethernet header, else the EtherType of the first header (0x0800, 0x86DD, 0x0806).</summary>
    public static string Format(ReadOnlySpan<byte> data, int etherTypeIfNoEthernet) =>
        Format(data, etherTypeIfNoEthernet, data.Length, null);

    /// <summary>As <see cref="Format(ReadOnlySpan{byte}, int)"/>, with the packet's length on the wire
    /// (larger than data.Length when the capture was cut by a snap length) and optional session state
    /// for relative TCP sequence numbers.</summary>
    public static string Format(ReadOnlySpan<byte> data, int etherTypeIfNoEthernet, int wireLength, PacketSummarySession? session = null)
    {
        Span<char> buffer = stackalloc char[MaxLength];
        int n = Format(data, etherTypeIfNoEthernet, wireLength, buffer, session);
        return new string(buffer[..n]);
    }

    /// <summary>Writes the summary into <paramref name="destination"/> without allocating; returns the
    /// number of characters written (the text is cut when the buffer is too small).</summary>
    public static int Format(ReadOnlySpan<byte> data, int etherTypeIfNoEthernet, int wireLength, Span<char> destination, PacketSummarySession? session = null)
    {
        var w = new SummaryWriter(destination);
        if (wireLength < data.Length) wireLength = data.Length;
        var p = new Printer(session);
        if (etherTypeIfNoEthernet == 0) p.Ethernet(ref w, data, wireLength);
        else p.EtherTypeDispatch(ref w, (ushort)etherTypeIfNoEthernet, data, wireLength, default, default, 0, true);
        return w.Length;
    }

    private readonly struct Printer
    {
        private readonly PacketSummarySession? _session;
        public Printer(PacketSummarySession? session) => _session = session;

        // ---- link layer ------------------------------------------------------------------------

        public void Ethernet(ref SummaryWriter w, ReadOnlySpan<byte> p, int length)
        {
            if (p.Length < EthernetFrame.MinHeaderLength || length < EthernetFrame.MinHeaderLength)
            {
                w.Append(" [|ether]");
                return;
            }
            var dst = MacAddress.Read(p);
            var src = MacAddress.Read(p[6..]);
            int orig = length;
            int off = 12;
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(p[off..]);
            off += 2;
            // tcpdump without -e prints nothing for VLAN tags, any number of them, and goes on with the inner type.
            while (type is EtherTypes.Vlan or EtherTypes.QinQ or EtherTypes.QinQ9100 or 0x9200)
            {
                if (p.Length - off < 4 || length - off < 4)
                {
                    w.Append(" [|vlan]");
                    return;
                }
                type = BinaryPrimitives.ReadUInt16BigEndian(p[(off + 2)..]);
                off += 4;
            }
            EtherTypeDispatch(ref w, type, p[off..], length - off, src, dst, orig, false);
        }

        /// <summary>tcpdump's 802.1D line: "STP 802.1d, Config, Flags [none], bridge-id 8000.02:00:00:00:00:fe.8001, length 35".</summary>
        private static void Stp(ref SummaryWriter w, ReadOnlySpan<byte> p, int length)
        {
            if (!StpBpdu.TryParse(p, out var b, out _) || p[2] != 0)
            {
                w.Append("STP, length "); w.Append(length);
                return;
            }
            if (b.Type == StpBpdu.Tcn) { w.Append("STP 802.1d, Topology Change"); return; }
            if (b.Type != StpBpdu.Config) { w.Append("STP 802.1d, unknown BPDU type"); return; }
            w.Append("STP 802.1d, Config, Flags [");
            w.Append(b.TopologyChange && b.TopologyChangeAck ? "Topology change, Topology change ACK" : b.TopologyChange ? "Topology change" : b.TopologyChangeAck ? "Topology change ACK" : "none");
            w.Append("], bridge-id ");
            w.AppendHex(b.Bridge >> 48, 4); w.Append('.'); w.AppendMac(new MacAddress(b.Bridge)); w.Append('.'); w.AppendHex(b.PortId, 4);
            w.Append(", length "); w.Append(length);
        }

        public void EtherTypeDispatch(ref SummaryWriter w, ushort type, ReadOnlySpan<byte> p, int length,
            MacAddress src, MacAddress dst, int frameLength, bool noLinkHeader)
        {
            switch (type)
            {
                case EtherTypes.Ipv4:
                    Ipv4(ref w, p, length);
                    return;
                case EtherTypes.Ipv6:
                    Ipv6(ref w, p, length);
                    return;
                case EtherTypes.Arp:
                case EtherTypes.Rarp:
                    Arp(ref w, p, length);
                    return;
                case EtherTypes.Lldp:
                    w.Append("LLDP, length "); w.Append(length);
                    return;
            }
            // 802.2 LLC for STP's SAP: tcpdump's STP line (a cooked capture gives ETH_P_802_2, Ethernet the 802.3 length)
            if ((noLinkHeader ? type == EtherTypes.Llc : type <= EtherTypes.MaxLength) && StpBpdu.IsStpLlc(p))
            {
                Stp(ref w, p[3..], noLinkHeader ? length - 3 : type - 3);
                return;
            }
            if (noLinkHeader)
            {
                w.Append("ethertype ");
                EtherTypeName(ref w, type);
                return;
            }
            if (type <= EtherTypes.MaxLength)
            {
                // 802.3 with LLC: tcpdump decodes LLC/SNAP, STP, IPX...; we print the 802.3 length only.
                w.AppendMac(src); w.Append(" > "); w.AppendMac(dst);
                w.Append(", 802.3, length "); w.Append((uint)type); w.Append(": ");
                return;
            }
            // tcpdump: unknown type without -e prints the addresses, the type and the frame length.
            w.AppendMac(src); w.Append(" > "); w.AppendMac(dst); w.Append(", ethertype ");
            EtherTypeName(ref w, type);
            w.Append(", length "); w.Append((uint)frameLength); w.Append(": ");
        }

        private static void EtherTypeName(ref SummaryWriter w, ushort type)
        {
            w.Append(type switch
            {
                EtherTypes.Ipv4 => "IPv4",
                EtherTypes.Arp => "ARP",
                EtherTypes.Ipv6 => "IPv6",
                EtherTypes.Rarp => "Reverse ARP",
                EtherTypes.Vlan => "802.1Q",
                EtherTypes.QinQ => "802.1Q-QinQ",
                EtherTypes.QinQ9100 => "802.1Q-9100",
                EtherTypes.Mpls => "MPLS unicast",
                EtherTypes.MplsMulticast => "MPLS multicast",
                EtherTypes.PppoeDiscovery => "PPPoE D",
                EtherTypes.PppoeSession => "PPPoE S",
                EtherTypes.Lldp => "LLDP",
                EtherTypes.MacSec => "MACsec",
                0x88F7 => "PTP",
                0x8809 => "Slow Protocols",
                0x888E => "EAPOL",
                0x9000 => "Loopback",
                _ => "Unknown",
            });
            w.Append(" (0x"); w.AppendHex(type, 4); w.Append(')');
        }

        // ---- ARP (RFC 826) ---------------------------------------------------------------------

        private static void Arp(ref SummaryWriter w, ReadOnlySpan<byte> p, int length)
        {
            if (!ArpPacket.TryParseHeader(p, out var arp, out _))
            {
                w.Append(" [|arp]");
                return;
            }
            int hln = arp.HardwareLength, pln = arp.ProtocolLength;
            int sha = 8, spa = sha + hln, tha = spa + pln, tpa = tha + hln;
            if (p.Length < tpa + pln)
            {
                w.Append(" [|arp]");
                return;
            }
            w.Append("ARP, ");
            ushort pro = arp.ProtocolType;
            if ((pro != EtherTypes.Ipv4 && pro != 0x1000) || pln != 4 || hln == 0)
            {
                w.Append(arp.HardwareType switch { 1 => "Ethernet", 6 => "TokenRing", 15 => "FrameRelay", 32 => "InfiniBand", _ => null } ?? "");
                if (arp.HardwareType is not (1 or 6 or 15 or 32)) { w.Append("Unknown Hardware ("); w.Append((uint)arp.HardwareType); w.Append(')'); }
                w.Append(" (len "); w.Append((uint)hln); w.Append("), ");
                if (pro == EtherTypes.Ipv4) w.Append("IPv4");
                else if (pro == EtherTypes.Ipv6) w.Append("IPv6");
                else { w.Append("Unknown Protocol (0x"); w.AppendHex(pro, 4); w.Append(')'); }
                w.Append(" (len "); w.Append((uint)pln); w.Append(')');
                w.Append(", length "); w.Append((uint)length);
                return;
            }
            ushort op = arp.Operation;
            string? opName = op switch
            {
                1 => "Request", 2 => "Reply", 3 => "Reverse Request", 4 => "Reverse Reply",
                5 => "Dynamic Reverse Request", 6 => "Dynamic Reverse Reply", 7 => "Dynamic Reverse Error",
                8 => "Inverse Request", 9 => "Inverse Reply", 10 => "NACK Reply", _ => null,
            };
            if (opName is null) { w.Append("Unknown ("); w.Append((uint)op); w.Append(')'); }
            else w.Append(opName);
            w.Append(' ');
            switch (op)
            {
                case 1:
                    w.Append("who-has ");
                    w.AppendIpv4(BinaryPrimitives.ReadUInt32BigEndian(p[tpa..]));
                    if (!IsZero(p.Slice(tha, hln))) { w.Append(" ("); LinkAddr(ref w, p.Slice(tha, hln)); w.Append(')'); }
                    w.Append(" tell ");
                    w.AppendIpv4(BinaryPrimitives.ReadUInt32BigEndian(p[spa..]));
                    break;
                case 2:
                    w.AppendIpv4(BinaryPrimitives.ReadUInt32BigEndian(p[spa..]));
                    w.Append(" is-at ");
                    LinkAddr(ref w, p.Slice(sha, hln));
                    break;
                case 3:
                case 8:
                    w.Append("who-is "); LinkAddr(ref w, p.Slice(tha, hln)); w.Append(" tell "); LinkAddr(ref w, p.Slice(sha, hln));
                    break;
                case 4:
                    LinkAddr(ref w, p.Slice(tha, hln)); w.Append(" at "); w.AppendIpv4(BinaryPrimitives.ReadUInt32BigEndian(p[tpa..]));
                    break;
                case 9:
                    LinkAddr(ref w, p.Slice(tha, hln)); w.Append(" at "); w.AppendIpv4(BinaryPrimitives.ReadUInt32BigEndian(p[spa..]));
                    break;
                default:
                    return;
            }
            w.Append(", length "); w.Append((uint)length);
        }

        private static void LinkAddr(ref SummaryWriter w, ReadOnlySpan<byte> a)
        {
            if (a.Length == 6) { w.AppendMac(MacAddress.Read(a)); return; }
            for (int i = 0; i < a.Length; i++)
            {
                if (i > 0) w.Append(':');
                w.AppendHex(a[i], 2);
            }
        }

        private static bool IsZero(ReadOnlySpan<byte> b) => b.IndexOfAnyExcept((byte)0) < 0;

        // ---- IPv4 (RFC 791) --------------------------------------------------------------------

        private void Ipv4(ref SummaryWriter w, ReadOnlySpan<byte> p, int length)
        {
            // tcpdump checks the version before it prints "IP ".
            if (p.Length < 1) { w.Append(" [|ip]"); return; }
            if (p[0] >> 4 != 4) { VersionError4(ref w, p[0] >> 4); return; }
            w.Append("IP ");
            if (!Ipv4Header.TryParse(p, out var ip, out _))
            {
                w.Append(" [|ip]");
                return;
            }
            if (length < Ipv4Header.MinHeaderLength) { w.Append("truncated-ip "); w.Append((uint)length); return; }
            int hlen = ip.HeaderLength;
            if (hlen < Ipv4Header.MinHeaderLength)
            {
                w.Append("bad-hlen "); w.Append((uint)hlen);
                return;
            }
            int len = ip.TotalLength;
            if (len > length)
            {
                // tcpdump 4.99 keeps the header's length for the layers above (they print it).
                w.Append("truncated-ip - "); w.Append((uint)(len - length)); w.Append(" bytes missing! ");
            }
            if (len < hlen)
            {
                // tcpdump 4.99 is built without GUESS_TSO, so a zero total length (TSO super-frame) is "bad-len 0" too.
                w.Append("bad-len "); w.Append((uint)len);
                return;
            }
            len -= hlen;
            byte proto = ip.Protocol;
            if (ip.FragmentOffset == 0)
            {
                if (proto is not (IpProtocol.Tcp or IpProtocol.Udp or IpProtocol.Sctp or 33 /* DCCP */))
                {
                    w.AppendIp(ip.Source); w.Append(" > "); w.AppendIp(ip.Destination); w.Append(": ");
                }
                if (hlen > p.Length)
                {
                    w.Append(" [remaining caplen("); w.Append((uint)p.Length); w.Append(") < header length(");
                    w.Append((uint)hlen); w.Append(")] [|ip]");
                    return;
                }
                var payload = p[hlen..];
                if (payload.Length > len) payload = payload[..len];
                Demux(ref w, proto, payload, len, ip.Source, ip.Destination, ip.MoreFragments, false);
            }
            else
            {
                w.AppendIp(ip.Source); w.Append(" > "); w.AppendIp(ip.Destination); w.Append(": ip-proto-"); w.Append((uint)proto);
            }
        }

        private static void VersionError4(ref SummaryWriter w, int version)
        {
            if (version == 6) w.Append("IP6, wrong link-layer encapsulation");
            else { w.Append("IP"); w.Append((uint)version); }
            w.Append(" (invalid)");
        }

        // ---- IPv6 (RFC 8200) -------------------------------------------------------------------

        private void Ipv6(ref SummaryWriter w, ReadOnlySpan<byte> p, int length)
        {
            w.Append("IP6 ");
            if (!Ipv6Header.TryParse(p, out var ip6, out _))
            {
                if (p.Length >= 1 && p[0] >> 4 != 6) { w.Append("version error: "); w.Append((uint)(p[0] >> 4)); w.Append(" != 6"); return; }
                if (length < Ipv6Header.HeaderLength && p.Length >= length) { w.Append("truncated-ip6 "); w.Append((uint)length); return; }
                w.Append(" [|ip6]");
                return;
            }
            if (length < Ipv6Header.HeaderLength) { w.Append("truncated-ip6 "); w.Append((uint)length); return; }
            if (ip6.Version != 6) { w.Append("version error: "); w.Append((uint)ip6.Version); w.Append(" != 6"); return; }
            int payloadLen = ip6.PayloadLength;
            int len;
            if (payloadLen != 0)
            {
                len = payloadLen + Ipv6Header.HeaderLength;
                if (length < len)
                {
                    // As for IPv4, the upper layers still print the header's length.
                    w.Append("truncated-ip6 - "); w.Append((uint)(len - length)); w.Append(" bytes missing!");
                }
            }
            else len = length;
            var src = ip6.Source;
            var dst = ip6.Destination;
            var cap = p.Length > len ? p[..len] : p;
            int off = Ipv6Header.HeaderLength;
            len -= Ipv6Header.HeaderLength;
            byte nh = ip6.NextHeader;
            bool fragmented = false;
            bool first = true;
            for (int guard = 0; guard < 64; guard++)
            {
                if (first && nh is not (IpProtocol.Tcp or IpProtocol.Udp or IpProtocol.Sctp or 33))
                {
                    w.AppendIp(src); w.Append(" > "); w.AppendIp(dst); w.Append(": ");
                }
                first = false;
                var h = off <= cap.Length ? cap[off..] : default;
                switch (nh)
                {
                    case IpProtocol.HopByHop:
                    case IpProtocol.DestOpts:
                    {
                        if (h.Length < 2) { w.Append(nh == 0 ? "HBH" : "DSTOPT"); w.Append(" [|"); w.Append(nh == 0 ? "HBH" : "DSTOPT"); w.Append(']'); return; }
                        int hl = (h[1] + 1) * 8;
                        w.Append(nh == 0 ? "HBH " : "DSTOPT ");
                        if (h.Length < hl) { w.Append("[|"); w.Append(nh == 0 ? "HBH" : "DSTOPT"); w.Append(']'); return; }
                        if (nh == 0 && payloadLen == 0)
                        {
                            uint jumbo = JumboLength(h[2..hl]);
                            if (jumbo != 0 && jumbo + 0L < len) len = (int)jumbo;
                        }
                        nh = h[0];
                        off += hl;
                        len -= hl;
                        if (len < 0) { w.Append(" [|ip6]"); return; }
                        continue;
                    }
                    case IpProtocol.Routing:
                    {
                        if (h.Length < 4) { w.Append("srcrt [|srcrt]"); return; }
                        int hl = (h[1] + 1) * 8;
                        if (!RoutingHeader(ref w, h)) return;
                        nh = h[0];
                        off += hl;
                        len -= hl;
                        if (len < 0) { w.Append(" [|ip6]"); return; }
                        continue;
                    }
                    case IpProtocol.Fragment:
                    {
                        // Without -v tcpdump reads only the offset field, so a header cut after it still prints.
                        if (h.Length < 4) { w.Append("frag [|frag6]"); return; }
                        int fo = BinaryPrimitives.ReadUInt16BigEndian(h[2..]) & 0xFFF8;
                        w.Append("frag ("); w.Append((uint)fo); w.Append('|');
                        // tcpdump computes this in size_t: a header past the payload wraps around.
                        w.Append((ulong)(long)(Ipv6Header.HeaderLength + payloadLen - off - 8)); w.Append(')');
                        if (fo != 0) return;
                        w.Append(' ');
                        nh = h[0];
                        off += 8;
                        len -= 8;
                        fragmented = true;
                        if (off >= cap.Length) return;
                        continue;
                    }
                    case IpProtocol.Mobility:
                    case 62:
                        w.Append("mobility");
                        return;
                    default:
                        Demux(ref w, nh, h, len, src, dst, fragmented, nh != ip6.NextHeader);
                        return;
                }
            }
        }

        private static uint JumboLength(ReadOnlySpan<byte> options)
        {
            int i = 0;
            while (i < options.Length)
            {
                if (options[i] == 0) { i++; continue; }
                if (i + 1 >= options.Length) break;
                int l = options[i + 1];
                if (options[i] == 0xC2 && l == 4 && i + 6 <= options.Length) return BinaryPrimitives.ReadUInt32BigEndian(options[(i + 2)..]);
                i += 2 + l;
            }
            return 0;
        }

        private static bool RoutingHeader(ref SummaryWriter w, ReadOnlySpan<byte> h)
        {
            int hlen8 = h[1];
            byte type = h[2];
            w.Append("RT6 (len="); w.Append((uint)hlen8);
            w.Append(", type="); w.Append((uint)type);
            if (type == 0) w.Append(" [Deprecated]");
            w.Append(", segleft="); w.Append((uint)h[3]);
            switch (type)
            {
                case 0:
                case 2:
                {
                    if (h.Length < 8) { w.Append(" [|srcrt]"); return false; }
                    uint rsv = BinaryPrimitives.ReadUInt32BigEndian(h[4..]);
                    if (rsv != 0) { w.Append(", rsv=0x"); w.AppendHex(rsv); }
                    if (hlen8 % 2 == 1) { w.Append(" [|srcrt]"); return false; }
                    int n = hlen8 / 2;
                    for (int i = 0; i < n; i++)
                    {
                        int a = 8 + 16 * i;
                        if (h.Length < a + 16) { w.Append(" [|srcrt]"); return false; }
                        w.Append(", ["); w.Append((uint)i); w.Append(']');
                        w.AppendIp(IpAddr.ReadV6(h[a..]));
                    }
                    w.Append(") ");
                    return true;
                }
                case 4:
                {
                    if (h.Length < 8) { w.Append(" [|srcrt]"); return false; }
                    int last = h[4];
                    w.Append(", last-entry="); w.Append((uint)last);
                    if (h[5] != 0) { w.Append(", flags=0x"); w.AppendHex(h[5]); }
                    w.Append(", tag="); w.AppendHex(BinaryPrimitives.ReadUInt16BigEndian(h[6..]));
                    for (int i = 0; i <= last; i++)
                    {
                        int a = 8 + 16 * i;
                        if (h.Length < a + 16) { w.Append(" [|srcrt]"); return false; }
                        w.Append(", ["); w.Append((uint)i); w.Append(']');
                        w.AppendIp(IpAddr.ReadV6(h[a..]));
                    }
                    w.Append(") ");
                    return true;
                }
                default:
                    w.Append(" (unknown type) (invalid)");
                    return false;
            }
        }

        // ---- protocol demux (ip_demux_print) ---------------------------------------------------

        /// <summary>ip_demux_print. <paramref name="portsOnly"/>: the transport header does not follow the
        /// fixed IP header (extension headers, AH), so tcpdump has already printed the addresses.</summary>
        private void Demux(ref SummaryWriter w, byte proto, ReadOnlySpan<byte> p, int length, IpAddr src, IpAddr dst, bool fragmented, bool portsOnly)
        {
            for (int guard = 0; guard < 16; guard++)
            {
                switch (proto)
                {
                    case IpProtocol.Tcp:
                        Tcp(ref w, p, length, src, dst, portsOnly);
                        return;
                    case IpProtocol.Udp:
                        Udp(ref w, p, length, src, dst, fragmented, portsOnly);
                        return;
                    case IpProtocol.Icmp:
                        if (!src.IsV4) { w.Append("[ICMP requires IPv4]"); return; }
                        Icmp(ref w, p, length);
                        return;
                    case IpProtocol.Icmpv6:
                        if (!src.IsV6) { w.Append("[ICMP6 requires IPv6]"); return; }
                        Icmp6(ref w, p, length);
                        return;
                    case IpProtocol.Igmp:
                        if (!src.IsV4) { w.Append("[IGMP requires IPv4]"); return; }
                        Igmp(ref w, p, length);
                        return;
                    case IpProtocol.IpIp:
                        Ipv4(ref w, p, length);
                        return;
                    case IpProtocol.Ipv6:
                        Ipv6(ref w, p, length);
                        return;
                    case IpProtocol.NoNext:
                        w.Append("no next header");
                        return;
                    case IpProtocol.Esp:
                        if (p.Length < 8) { w.Append("ESP [|esp]"); return; }
                        w.Append("ESP(spi=0x"); w.AppendHex(BinaryPrimitives.ReadUInt32BigEndian(p), 8);
                        w.Append(",seq=0x"); w.AppendHex(BinaryPrimitives.ReadUInt32BigEndian(p[4..]));
                        w.Append("), length "); w.Append((uint)length);
                        return;
                    case IpProtocol.Ah:
                    {
                        if (p.Length < 12) { w.Append("AH [|ah]"); return; }
                        int ahLen = (p[1] + 2) * 4;
                        w.Append("AH(spi=0x"); w.AppendHex(BinaryPrimitives.ReadUInt32BigEndian(p[4..]), 8);
                        w.Append(",seq=0x"); w.AppendHex(BinaryPrimitives.ReadUInt32BigEndian(p[8..]));
                        if (ahLen > p.Length) { w.Append(" [|ah]"); return; }
                        if (ahLen < 12) { w.Append(") (invalid)"); return; } // RFC 4302 2.2: at least SPI and sequence
                        w.Append(",icv=0x"); w.AppendHexBytes(p[12..ahLen]);
                        w.Append("): ");
                        proto = p[0];
                        p = p[ahLen..];
                        length -= ahLen;
                        portsOnly = true;
                        continue;
                    }
                    case IpProtocol.Gre:
                        Gre(ref w, p, length);
                        return;
                    default:
                        w.Append(" ip-proto-"); w.Append((uint)proto); w.Append(' '); w.Append((uint)Math.Max(length, 0));
                        return;
                }
            }
        }

        // ---- GRE (RFC 2784, 2890) ---------------------------------------------------------------

        private void Gre(ref SummaryWriter w, ReadOnlySpan<byte> p, int length)
        {
            if (p.Length < 4) { w.Append("GRE [|gre]"); return; }
            ushort flags = BinaryPrimitives.ReadUInt16BigEndian(p);
            int version = flags & 0x7;
            w.Append("GREv"); w.Append((uint)version);
            if (version != 0) { w.Append(", length "); w.Append((uint)length); return; }
            ushort proto = BinaryPrimitives.ReadUInt16BigEndian(p[2..]);
            int off = 4;
            if ((flags & 0xC000) != 0)
            {
                if (p.Length < off + 4) { w.Append(" [|gre]"); return; }
                if ((flags & 0x8000) != 0) { w.Append(", sum 0x"); w.AppendHex(BinaryPrimitives.ReadUInt16BigEndian(p[off..])); }
                if ((flags & 0x4000) != 0) { w.Append(", off 0x"); w.AppendHex(BinaryPrimitives.ReadUInt16BigEndian(p[(off + 2)..])); }
                off += 4;
            }
            if ((flags & 0x2000) != 0)
            {
                if (p.Length < off + 4) { w.Append(" [|gre]"); return; }
                w.Append(", key=0x"); w.AppendHex(BinaryPrimitives.ReadUInt32BigEndian(p[off..]));
                off += 4;
            }
            if ((flags & 0x1000) != 0)
            {
                if (p.Length < off + 4) { w.Append(" [|gre]"); return; }
                w.Append(", seq "); w.Append(BinaryPrimitives.ReadUInt32BigEndian(p[off..]));
                off += 4;
            }
            w.Append(", length "); w.Append((uint)length); w.Append(": ");
            var inner = p[off..];
            int innerLen = length - off;
            switch (proto)
            {
                case EtherTypes.Ipv4: Ipv4(ref w, inner, innerLen); break;
                case EtherTypes.Ipv6: Ipv6(ref w, inner, innerLen); break;
                case 0x6558: Ethernet(ref w, inner, innerLen); break;
                default: w.Append("gre-proto-0x"); w.AppendHex(proto); break;
            }
        }

        // ---- TCP (RFC 9293) --------------------------------------------------------------------

        private static void Endpoints(ref SummaryWriter w, IpAddr src, ushort sport, IpAddr dst, ushort dport, bool portsOnly)
        {
            if (portsOnly)
            {
                w.Append((uint)sport); w.Append(" > "); w.Append((uint)dport); w.Append(": ");
                return;
            }
            w.AppendIp(src); w.Append('.'); w.Append((uint)sport); w.Append(" > ");
            w.AppendIp(dst); w.Append('.'); w.Append((uint)dport); w.Append(": ");
        }

        private void Tcp(ref SummaryWriter w, ReadOnlySpan<byte> p, int length, IpAddr src, IpAddr dst, bool portsOnly)
        {
            if (p.Length < 4)
            {
                if (!portsOnly) { w.AppendIp(src); w.Append(" > "); w.AppendIp(dst); w.Append(':'); }
                w.Append(" [|tcp]");
                return;
            }
            ushort sport = BinaryPrimitives.ReadUInt16BigEndian(p);
            ushort dport = BinaryPrimitives.ReadUInt16BigEndian(p[2..]);
            Endpoints(ref w, src, sport, dst, dport, portsOnly);
            if (!TcpHeader.TryParse(p, out var tcp, out _)) { w.Append(" [|tcp]"); return; }
            int hlen = tcp.HeaderLength;
            if (hlen < TcpHeader.MinHeaderLength)
            {
                w.Append(" tcp "); w.Append(length - hlen); w.Append(" [bad hdr length "); w.Append((uint)hlen);
                w.Append(" - too short, < 20]");
                return;
            }
            uint seq = tcp.SequenceNumber, ack = tcp.AcknowledgmentNumber;
            var flags = tcp.Flags;
            w.Append("Flags [");
            // tcpdump 4.99 prints the eight classic bits (the AE bit is not shown).
            int f8 = (int)flags & 0xFF;
            if (f8 == 0) w.Append("none");
            if ((f8 & 0x01) != 0) w.Append('F');
            if ((f8 & 0x02) != 0) w.Append('S');
            if ((f8 & 0x04) != 0) w.Append('R');
            if ((f8 & 0x08) != 0) w.Append('P');
            if ((f8 & 0x10) != 0) w.Append('.');
            if ((f8 & 0x20) != 0) w.Append('U');
            if ((f8 & 0x40) != 0) w.Append('E');
            if ((f8 & 0x80) != 0) w.Append('W');
            w.Append(']');

            uint thSeq = 0, thAck = 0;
            bool rev = false;
            if (_session is not null && (f8 & 0x10) != 0)
                _session.Relative(src, sport, dst, dport, (f8 & 0x02) != 0, ref seq, ref ack, out thSeq, out thAck, out rev);

            if (hlen > length)
            {
                w.Append(" [bad hdr length "); w.Append((uint)hlen); w.Append(" - too long, > "); w.Append(length); w.Append(']');
                return;
            }
            int dataLen = length - hlen;
            if (dataLen > 0 || (f8 & 0x07) != 0)
            {
                w.Append(", seq "); w.Append(seq);
                if (dataLen > 0) { w.Append(':'); w.Append(seq + (uint)dataLen); }
            }
            if ((f8 & 0x10) != 0) { w.Append(", ack "); w.Append(ack); }
            w.Append(", win "); w.Append((uint)tcp.Window);
            if ((f8 & 0x20) != 0) { w.Append(", urg "); w.Append((uint)tcp.UrgentPointer); }
            if (hlen > TcpHeader.MinHeaderLength)
            {
                if (!TcpOptions(ref w, p, hlen, rev ? thSeq : thAck)) return;
            }
            w.Append(", length "); w.Append(dataLen);
            if (dataLen <= 0) return;
            var payload = p.Length > hlen ? p[hlen..] : default;
            if (payload.Length > dataLen) payload = payload[..dataLen];
            if ((f8 & 0x04) != 0) return; // RST payload is decoded only with -v
            if (sport == 53 || dport == 53)
            {
                // DNS over TCP: a 2-byte length prefix (RFC 1035 4.2.2).
                if (payload.Length >= 2) { w.Append(' '); Dns.Print(ref w, payload[2..], dataLen - 2); }
            }
            else if (sport == 22 || dport == 22) Ssh(ref w, payload);
            else if (sport is 80 or 8080 or 3128 || dport is 80 or 8080 or 3128) Http(ref w, payload);
        }

        /// <summary>TCP options in tcpdump's notation; false when it stopped on a malformed option.</summary>
        private static bool TcpOptions(ref SummaryWriter w, ReadOnlySpan<byte> p, int hlen, uint sackBase)
        {
            w.Append(", options [");
            int end = hlen;
            int i = TcpHeader.MinHeaderLength;
            bool first = true;
            while (i < end)
            {
                if (!first) w.Append(',');
                first = false;
                if (i >= p.Length) { w.Append(" [|tcp]"); return false; }
                byte kind = p[i++];
                int len;
                if (kind is 0 or 1) len = 1;
                else
                {
                    if (i >= p.Length) { w.Append(" [|tcp]"); return false; }
                    len = p[i++];
                    if (len < 2 || len > end - i + 2) { w.Append("[bad opt]"); return false; }
                }
                OptionName(ref w, kind);
                int avail = end - i; // option bytes left in the header
                int dlen;
                switch (kind)
                {
                    case 0:
                    case 1:
                        dlen = 0;
                        break;
                    case TcpOptionKind.Mss:
                        dlen = 2;
                        if (!Need(ref w, p, i, dlen, avail)) return false;
                        w.Append(' '); w.Append((uint)BinaryPrimitives.ReadUInt16BigEndian(p[i..]));
                        break;
                    case TcpOptionKind.WindowScale:
                        dlen = 1;
                        if (!Need(ref w, p, i, dlen, avail)) return false;
                        w.Append(' '); w.Append((uint)p[i]);
                        break;
                    case TcpOptionKind.Sack:
                        dlen = len - 2;
                        if (dlen % 8 != 0) w.Append(" invalid sack");
                        else
                        {
                            w.Append(' '); w.Append((uint)(dlen / 8)); w.Append(' ');
                            for (int b = 0; b < dlen; b += 8)
                            {
                                if (!Need(ref w, p, i + b, 8, avail - b)) return false;
                                uint s = BinaryPrimitives.ReadUInt32BigEndian(p[(i + b)..]) - sackBase;
                                uint e = BinaryPrimitives.ReadUInt32BigEndian(p[(i + b + 4)..]) - sackBase;
                                w.Append('{'); w.Append(s); w.Append(':'); w.Append(e); w.Append('}');
                            }
                        }
                        break;
                    case 11: case 12: case 13: // CC, CC.NEW, CC.ECHO (RFC 1644)
                        dlen = 4;
                        if (!Need(ref w, p, i, dlen, avail)) return false;
                        w.Append(' '); w.Append(BinaryPrimitives.ReadUInt32BigEndian(p[i..]));
                        break;
                    case TcpOptionKind.Timestamps:
                        dlen = 8;
                        if (!Need(ref w, p, i, dlen, avail)) return false;
                        w.Append(" val "); w.Append(BinaryPrimitives.ReadUInt32BigEndian(p[i..]));
                        w.Append(" ecr "); w.Append(BinaryPrimitives.ReadUInt32BigEndian(p[(i + 4)..]));
                        break;
                    case TcpOptionKind.Md5Signature:
                        dlen = 16;
                        if (!Need(ref w, p, i, dlen, avail)) return false;
                        w.Append(' '); w.AppendHexBytes(p.Slice(i, 16));
                        break;
                    case TcpOptionKind.UserTimeout:
                    {
                        dlen = 2;
                        if (!Need(ref w, p, i, dlen, avail)) return false;
                        uint uto = BinaryPrimitives.ReadUInt16BigEndian(p[i..]);
                        w.Append(" 0x"); w.AppendHex(uto);
                        uto = (uto & 1) != 0 ? (uto >> 1) * 60 : uto >> 1;
                        w.Append(' '); w.Append(uto);
                        break;
                    }
                    case TcpOptionKind.Mptcp:
                        dlen = len - 2;
                        if (!Need(ref w, p, i, dlen, avail)) return false;
                        if (!Mptcp(ref w, p.Slice(i - 2, len))) return false;
                        break;
                    case TcpOptionKind.FastOpen:
                        dlen = len - 2;
                        if (!Need(ref w, p, i, dlen, avail)) return false;
                        w.Append(' ');
                        FastOpen(ref w, p.Slice(i, dlen), false);
                        break;
                    case TcpOptionKind.Experimental2:
                        dlen = len - 2;
                        if (!Need(ref w, p, i, dlen, avail)) return false;
                        if (dlen < 2) { w.Append("[bad opt]"); return false; }
                        ushort magic = BinaryPrimitives.ReadUInt16BigEndian(p[i..]);
                        w.Append('-');
                        if (magic == 0xF989) FastOpen(ref w, p.Slice(i + 2, dlen - 2), true);
                        else w.AppendHex(magic, 4);
                        break;
                    default:
                        dlen = len - 2;
                        if (dlen > 0) w.Append(" 0x");
                        for (int b = 0; b < dlen; b++)
                        {
                            if (!Need(ref w, p, i + b, 1, avail - b)) return false;
                            w.AppendHex(p[i + b], 2);
                        }
                        break;
                }
                i += dlen;
                int expect = dlen + (kind is 0 or 1 ? 1 : 2);
                if (expect != len) { w.Append("[len "); w.Append((uint)len); w.Append(']'); }
                if (kind == 0) break;
            }
            w.Append(']');
            return true;
        }

        /// <summary>Multipath TCP option (RFC 8684 3): "mptcp LEN SUBTYPE ...", as tcpdump prints it.</summary>
        private static bool Mptcp(ref SummaryWriter w, ReadOnlySpan<byte> opt)
        {
            int len = opt.Length;
            w.Append(' '); w.Append((uint)len);
            if (len < 3) { w.Append(" [bad opt]"); return false; }
            int subtype = opt[2] >> 4;
            string? name = subtype switch
            {
                0 => "capable", 1 => "join", 2 => "dss", 3 => "add-addr", 4 => "remove-addr", 5 => "prio",
                6 => "fail", 7 => "fast-close", 8 => "tcprst", _ => null,
            };
            w.Append(' ');
            if (name is null) { w.Append("unknown"); return true; }
            w.Append(name);
            switch (subtype)
            {
                case 0:
                {
                    if (len is not (4 or 12 or 20 or 22 or 24)) { w.Append(" [bad opt]"); return false; }
                    w.Append(" v"); w.Append((uint)(opt[2] & 0x0F));
                    byte f = opt[3];
                    if (f != 0)
                    {
                        w.Append(" flags [");
                        ReadOnlySpan<char> letters = "ABCDEFGH";
                        for (int b = 0; b < 8; b++) if ((f & (0x80 >> b)) != 0) w.Append(letters[b]);
                        w.Append(']');
                    }
                    if (len >= 12)
                    {
                        w.Append(" {0x"); w.AppendHex(BinaryPrimitives.ReadUInt64BigEndian(opt[4..]), 16);
                        if (len >= 20) { w.Append(",0x"); w.AppendHex(BinaryPrimitives.ReadUInt64BigEndian(opt[12..]), 16); }
                        if (len >= 22) { w.Append(",data_len="); w.Append((uint)BinaryPrimitives.ReadUInt16BigEndian(opt[20..])); }
                        if (len >= 24) { w.Append(",csum=0x"); w.AppendHex(BinaryPrimitives.ReadUInt16BigEndian(opt[22..])); }
                        w.Append('}');
                    }
                    return true;
                }
                case 2:
                {
                    if (len < 4) { w.Append(" [bad opt]"); return false; }
                    byte f = opt[3];
                    int o = 4;
                    if ((f & 0x10) != 0) w.Append(" fin");
                    if ((f & 0x01) != 0)
                    {
                        int n = (f & 0x02) != 0 ? 8 : 4;
                        if (o + n > len) { w.Append(" [bad opt]"); return false; }
                        w.Append(" ack ");
                        if (n == 8) w.Append(BinaryPrimitives.ReadUInt64BigEndian(opt[o..])); else w.Append(BinaryPrimitives.ReadUInt32BigEndian(opt[o..]));
                        o += n;
                    }
                    if ((f & 0x04) != 0)
                    {
                        int n = (f & 0x08) != 0 ? 8 : 4;
                        if (o + n + 6 > len) { w.Append(" [bad opt]"); return false; }
                        w.Append(" seq ");
                        if (n == 8) w.Append(BinaryPrimitives.ReadUInt64BigEndian(opt[o..])); else w.Append(BinaryPrimitives.ReadUInt32BigEndian(opt[o..]));
                        o += n;
                        w.Append(" subseq "); w.Append(BinaryPrimitives.ReadUInt32BigEndian(opt[o..]));
                        w.Append(" len "); w.Append((uint)BinaryPrimitives.ReadUInt16BigEndian(opt[(o + 4)..]));
                        o += 6;
                        if (o + 2 <= len) { w.Append(" csum 0x"); w.AppendHex(BinaryPrimitives.ReadUInt16BigEndian(opt[o..])); }
                    }
                    return true;
                }
                default:
                    return true;
            }
        }

        private static bool Need(ref SummaryWriter w, ReadOnlySpan<byte> p, int at, int n, int avail)
        {
            if (n > avail) { w.Append("[bad opt]"); return false; }
            if (at + n > p.Length) { w.Append(" [|tcp]"); return false; }
            return true;
        }

        private static void OptionName(ref SummaryWriter w, byte kind)
        {
            string? name = kind switch
            {
                0 => "eol", 1 => "nop", 2 => "mss", 3 => "wscale", 4 => "sackOK", 5 => "sack", 6 => "echo",
                7 => "echoreply", 8 => "TS", 11 => "cc", 12 => "ccnew", 13 => "", 19 => "md5", 20 => "scps",
                28 => "uto", 29 => "tcp-ao", 30 => "mptcp", 34 => "tfo", 254 => "exp", _ => null,
            };
            if (name is null) { w.Append("unknown-"); w.Append((uint)kind); }
            else w.Append(name);
        }

        private static void FastOpen(ref SummaryWriter w, ReadOnlySpan<byte> cookie, bool experimental)
        {
            if (experimental) w.Append("tfo");
            if (cookie.Length == 0) w.Append(" cookiereq");
            else if (cookie.Length % 2 != 0 || cookie.Length < 4 || cookie.Length > 16) w.Append(" (invalid)");
            else { w.Append(" cookie "); w.AppendHexBytes(cookie); }
        }

        private static void Ssh(ref SummaryWriter w, ReadOnlySpan<byte> payload)
        {
            // The identification string (RFC 4253 4.2): "SSH-protoversion-softwareversion" CR LF.
            if (payload.Length < 4 || !payload[..4].SequenceEqual("SSH-"u8)) return;
            int end = payload.IndexOfAny((byte)'\r', (byte)'\n');
            if (end < 0) return;
            for (int i = 0; i < end; i++) if (payload[i] is < 0x20 or > 0x7E) return;
            w.Append(": SSH: ");
            AppendAscii(ref w, payload[..end]);
        }

        private static void Http(ref SummaryWriter w, ReadOnlySpan<byte> payload)
        {
            // tcpdump's txtproto_print: the protocol name, then the first line when the first token
            // is a method or the second a 3-digit status code.
            w.Append(": HTTP");
            int sp = payload.IndexOf((byte)' ');
            if (sp <= 0) return;
            var tok = payload[..sp];
            bool print = IsHttpMethod(tok);
            if (!print)
            {
                var rest = payload[(sp + 1)..];
                int sp2 = rest.IndexOfAny((byte)' ', (byte)'\r', (byte)'\n');
                var t2 = sp2 < 0 ? rest : rest[..sp2];
                print = t2.Length == 3 && t2[0] is >= (byte)'0' and <= (byte)'9' && t2[1] is >= (byte)'0' and <= (byte)'9' && t2[2] is >= (byte)'0' and <= (byte)'9';
            }
            if (!print) return;
            int eol = payload.IndexOf((byte)'\n');
            if (eol < 0) return;
            int lineEnd = eol > 0 && payload[eol - 1] == '\r' ? eol - 1 : eol;
            for (int i = 0; i < lineEnd; i++) if (payload[i] is < 0x20 or > 0x7E && payload[i] != '\t') return;
            w.Append(": ");
            AppendAscii(ref w, payload[..lineEnd]);
        }

        private static bool IsHttpMethod(ReadOnlySpan<byte> t) =>
            t.SequenceEqual("GET"u8) || t.SequenceEqual("POST"u8) || t.SequenceEqual("HEAD"u8) || t.SequenceEqual("PUT"u8)
            || t.SequenceEqual("DELETE"u8) || t.SequenceEqual("OPTIONS"u8) || t.SequenceEqual("TRACE"u8) || t.SequenceEqual("CONNECT"u8);

        internal static void AppendAscii(ref SummaryWriter w, ReadOnlySpan<byte> text)
        {
            foreach (byte b in text) w.Append((char)b);
        }

        // ---- UDP (RFC 768) ---------------------------------------------------------------------

        private static void Udp(ref SummaryWriter w, ReadOnlySpan<byte> p, int length, IpAddr src, IpAddr dst, bool fragmented, bool portsOnly)
        {
            if (p.Length < 4)
            {
                if (!portsOnly) { w.AppendIp(src); w.Append(" > "); w.AppendIp(dst); w.Append(':'); }
                w.Append(" [|udp]");
                return;
            }
            ushort sport = BinaryPrimitives.ReadUInt16BigEndian(p);
            ushort dport = BinaryPrimitives.ReadUInt16BigEndian(p[2..]);
            if (length < UdpHeader.HeaderLength)
            {
                Endpoints(ref w, src, sport, dst, dport, portsOnly);
                w.Append("truncated-udp "); w.Append(length);
                return;
            }
            if (p.Length < 6) { Endpoints(ref w, src, sport, dst, dport, portsOnly); w.Append(" [|udp]"); return; }
            int ulen = BinaryPrimitives.ReadUInt16BigEndian(p[4..]);
            if (ulen == 0 && length > 65535) ulen = length;
            if (ulen < UdpHeader.HeaderLength)
            {
                Endpoints(ref w, src, sport, dst, dport, portsOnly);
                w.Append("truncated-udplength "); w.Append((uint)ulen);
                return;
            }
            ulen -= UdpHeader.HeaderLength;
            length -= UdpHeader.HeaderLength;
            if (ulen < length) length = ulen;
            Endpoints(ref w, src, sport, dst, dport, portsOnly);
            if (p.Length < UdpHeader.HeaderLength) { w.Append(" [|udp]"); return; }
            var payload = p[UdpHeader.HeaderLength..];
            if (payload.Length > length) payload = payload[..Math.Max(length, 0)];
            if (sport == 53 || dport == 53)
            {
                Dns.Print(ref w, payload, length);
                return;
            }
            if (sport == 69 || dport == 69)
            {
                Tftp(ref w, payload, length);
                return;
            }
            if (ulen > length && !fragmented) { w.Append("UDP, bad length "); w.Append((uint)ulen); w.Append(" > "); w.Append(length); }
            else { w.Append("UDP, length "); w.Append((uint)ulen); }
        }

        /// <summary>TFTP (RFC 1350): "TFTP, length N, RRQ "file" mode", as tcpdump prints requests.</summary>
        private static void Tftp(ref SummaryWriter w, ReadOnlySpan<byte> p, int length)
        {
            w.Append("TFTP, length "); w.Append(length);
            if (p.Length < 2) { w.Append(" [|tftp]"); return; }
            int op = BinaryPrimitives.ReadUInt16BigEndian(p);
            string? name = op switch { 1 => "RRQ", 2 => "WRQ", 3 => "DATA", 4 => "ACK", 5 => "ERROR", 6 => "OACK", _ => null };
            w.Append(", ");
            if (name is null) { w.Append("tftp-#"); w.Append((uint)op); return; }
            w.Append(name);
            var rest = p[2..];
            switch (op)
            {
                case 1:
                case 2:
                {
                    int z = rest.IndexOf((byte)0);
                    if (z < 0) { w.Append(" [|tftp]"); return; }
                    w.Append(" \""); AppendPrintable(ref w, rest[..z]); w.Append('"');
                    rest = rest[(z + 1)..];
                    // Mode, then option/value pairs (RFC 2347), each NUL-terminated.
                    while (rest.Length > 0)
                    {
                        z = rest.IndexOf((byte)0);
                        if (z < 0) { w.Append(" [|tftp]"); return; }
                        w.Append(' '); AppendPrintable(ref w, rest[..z]);
                        rest = rest[(z + 1)..];
                    }
                    return;
                }
                case 3:
                case 4:
                    if (rest.Length < 2) { w.Append(" [|tftp]"); return; }
                    w.Append(" block "); w.Append((uint)BinaryPrimitives.ReadUInt16BigEndian(rest));
                    return;
                case 5:
                {
                    if (rest.Length < 2) { w.Append(" [|tftp]"); return; }
                    w.Append(' '); w.Append((uint)BinaryPrimitives.ReadUInt16BigEndian(rest));
                    int z = rest[2..].IndexOf((byte)0);
                    if (z >= 0) { w.Append(" \""); AppendPrintable(ref w, rest.Slice(2, z)); w.Append('"'); }
                    return;
                }
                default:
                    return;
            }
        }

        private static void AppendPrintable(ref SummaryWriter w, ReadOnlySpan<byte> text)
        {
            foreach (byte b in text)
            {
                if (b is >= 0x20 and < 0x7F) w.Append((char)b);
                else { w.Append("\\0x"); w.AppendHex(b, 2); }
            }
        }

        // ---- ICMPv4 (RFC 792) ------------------------------------------------------------------

        private static void Icmp(ref SummaryWriter w, ReadOnlySpan<byte> p, int length)
        {
            w.Append("ICMP ");
            if (p.Length < 4) { w.Append("[|icmp]"); return; }
            byte type = p[0], code = p[1];
            switch (type)
            {
                case IcmpHeader.EchoRequest:
                case IcmpHeader.EchoReply:
                    if (p.Length < 8) { w.Append("[|icmp]"); return; }
                    w.Append(type == 8 ? "echo request" : "echo reply");
                    w.Append(", id "); w.Append((uint)BinaryPrimitives.ReadUInt16BigEndian(p[4..]));
                    w.Append(", seq "); w.Append((uint)BinaryPrimitives.ReadUInt16BigEndian(p[6..]));
                    break;
                case IcmpHeader.DestUnreach:
                    if (!Unreach(ref w, p, code)) return;
                    break;
                case IcmpHeader.Redirect:
                {
                    if (p.Length < 8 + 20) { w.Append("[|icmp]"); return; }
                    var gw = IpAddr.ReadV4(p[4..]);
                    var odst = IpAddr.ReadV4(p[(8 + 16)..]);
                    switch (code)
                    {
                        case 0: w.Append("redirect "); w.AppendIp(odst); w.Append(" to net "); w.AppendIp(gw); break;
                        case 1: w.Append("redirect "); w.AppendIp(odst); w.Append(" to host "); w.AppendIp(gw); break;
                        case 2: w.Append("redirect-tos "); w.AppendIp(odst); w.Append(" to net "); w.AppendIp(gw); break;
                        case 3: w.Append("redirect-tos "); w.AppendIp(odst); w.Append(" to host "); w.AppendIp(gw); break;
                        default: w.Append("redirect-#"); w.Append((uint)code); w.Append(' '); w.AppendIp(odst); w.Append(" to "); w.AppendIp(gw); break;
                    }
                    break;
                }
                case IcmpHeader.TimeExceeded:
                    if (code == 0) w.Append("time exceeded in-transit");
                    else if (code == 1) w.Append("ip reassembly time exceeded");
                    else { w.Append("time exceeded-#"); w.Append((uint)code); }
                    break;
                case IcmpHeader.ParamProblem:
                    if (code != 0) { w.Append("parameter problem - code "); w.Append((uint)code); }
                    else
                    {
                        if (p.Length < 5) { w.Append("[|icmp]"); return; }
                        w.Append("parameter problem - octet "); w.Append((uint)p[4]);
                    }
                    break;
                case IcmpHeader.Timestamp:
                    if (p.Length < 8) { w.Append("[|icmp]"); return; }
                    w.Append("time stamp query id "); w.Append((uint)BinaryPrimitives.ReadUInt16BigEndian(p[4..]));
                    w.Append(" seq "); w.Append((uint)BinaryPrimitives.ReadUInt16BigEndian(p[6..]));
                    break;
                case IcmpHeader.TimestampReply:
                    if (p.Length < 20) { w.Append("[|icmp]"); return; }
                    w.Append("time stamp reply id "); w.Append((uint)BinaryPrimitives.ReadUInt16BigEndian(p[4..]));
                    w.Append(" seq "); w.Append((uint)BinaryPrimitives.ReadUInt16BigEndian(p[6..]));
                    w.Append(": org "); IcmpTime(ref w, BinaryPrimitives.ReadUInt32BigEndian(p[8..]));
                    w.Append(", recv "); IcmpTime(ref w, BinaryPrimitives.ReadUInt32BigEndian(p[12..]));
                    w.Append(", xmit "); IcmpTime(ref w, BinaryPrimitives.ReadUInt32BigEndian(p[16..]));
                    break;
                case IcmpHeader.AddressMaskReply:
                    if (p.Length < 12) { w.Append("[|icmp]"); return; }
                    w.Append("address mask is 0x"); w.AppendHex(BinaryPrimitives.ReadUInt32BigEndian(p[8..]), 8);
                    break;
                default:
                    string? name = type switch
                    {
                        4 => "source quench", 9 => "router advertisement", 10 => "router solicitation",
                        15 => "information request", 16 => "information reply",
                        17 => "address mask request", _ => null,
                    };
                    if (name is null) { w.Append("type-#"); w.Append((uint)type); }
                    else w.Append(name);
                    break;
            }
            w.Append(", length "); w.Append(length);
        }

        /// <summary>An ICMP timestamp: milliseconds since midnight UT (RFC 792), printed HH:MM:SS.mmm.</summary>
        private static void IcmpTime(ref SummaryWriter w, uint ms)
        {
            uint h = ms / 3_600_000, m = ms / 60_000 % 60, sec = ms / 1000 % 60, frac = ms % 1000;
            if (h < 10) w.Append('0');
            w.Append(h); w.Append(':');
            if (m < 10) w.Append('0');
            w.Append(m); w.Append(':');
            if (sec < 10) w.Append('0');
            w.Append(sec); w.Append('.');
            if (frac < 100) w.Append('0');
            if (frac < 10) w.Append('0');
            w.Append(frac);
        }

        private static bool Unreach(ref SummaryWriter w, ReadOnlySpan<byte> p, byte code)
        {
            // The quoted datagram starts at byte 8; its destination is at 8 + 16.
            const int oip = 8;
            if (p.Length < oip + 20) { w.Append("[|icmp]"); return false; }
            var odst = IpAddr.ReadV4(p[(oip + 16)..]);
            switch (code)
            {
                case 0: w.Append("net "); w.AppendIp(odst); w.Append(" unreachable"); break;
                case 1: w.Append("host "); w.AppendIp(odst); w.Append(" unreachable"); break;
                case 2: w.AppendIp(odst); w.Append(" protocol "); w.Append((uint)p[oip + 9]); w.Append(" unreachable"); break;
                case 3:
                {
                    int hl = (p[oip] & 0x0F) * 4;
                    if (p.Length < oip + hl + 4) { w.Append("[|icmp]"); return false; }
                    ushort dport = BinaryPrimitives.ReadUInt16BigEndian(p[(oip + hl + 2)..]);
                    byte proto = p[oip + 9];
                    w.AppendIp(odst);
                    if (proto == IpProtocol.Tcp) { w.Append(" tcp port "); w.Append((uint)dport); }
                    else if (proto == IpProtocol.Udp) { w.Append(" udp port "); w.Append((uint)dport); }
                    else { w.Append(" protocol "); w.Append((uint)proto); w.Append(" port "); w.Append((uint)dport); }
                    w.Append(" unreachable");
                    break;
                }
                case 4:
                {
                    ushort mtu = BinaryPrimitives.ReadUInt16BigEndian(p[6..]);
                    w.AppendIp(odst); w.Append(" unreachable - need to frag");
                    if (mtu != 0) { w.Append(" (mtu "); w.Append((uint)mtu); w.Append(')'); }
                    break;
                }
                case 5: w.AppendIp(odst); w.Append(" unreachable - source route failed"); break;
                case 6: w.Append("net "); w.AppendIp(odst); w.Append(" unreachable - unknown"); break;
                case 7: w.Append("host "); w.AppendIp(odst); w.Append(" unreachable - unknown"); break;
                case 8: w.AppendIp(odst); w.Append(" unreachable - source host isolated"); break;
                case 9: w.Append("net "); w.AppendIp(odst); w.Append(" unreachable - admin prohibited"); break;
                case 10: w.Append("host "); w.AppendIp(odst); w.Append(" unreachable - admin prohibited"); break;
                case 11: w.Append("net "); w.AppendIp(odst); w.Append(" unreachable - tos prohibited"); break;
                case 12: w.Append("host "); w.AppendIp(odst); w.Append(" unreachable - tos prohibited"); break;
                case 13: w.Append("host "); w.AppendIp(odst); w.Append(" unreachable - admin prohibited filter"); break;
                case 14: w.Append("host "); w.AppendIp(odst); w.Append(" unreachable - host precedence violation"); break;
                case 15: w.Append("host "); w.AppendIp(odst); w.Append(" unreachable - precedence cutoff"); break;
                default: w.AppendIp(odst); w.Append(" unreachable - #"); w.Append((uint)code); break;
            }
            return true;
        }

        // ---- IGMP (RFC 2236, 3376) -------------------------------------------------------------

        private static void Igmp(ref SummaryWriter w, ReadOnlySpan<byte> p, int length)
        {
            if (p.Length < 1) { w.Append(" [|igmp]"); return; }
            byte type = p[0];
            switch (type)
            {
                case 0x11:
                    w.Append("igmp query");
                    if (length >= 12)
                    {
                        w.Append(" v3");
                        if (p.Length < 12) { w.Append(" [|igmp]"); return; }
                        int mrc = p[1];
                        int mrt = mrc < 128 ? mrc : ((mrc & 0x0F) | 0x10) << (((mrc & 0x70) >> 4) + 3);
                        if (mrc != 100)
                        {
                            w.Append(" [max resp time ");
                            if (mrt < 600) { w.Append((uint)(mrt / 10)); w.Append('.'); w.Append((uint)(mrt % 10)); w.Append('s'); }
                            else RelativeTime(ref w, (uint)(mrt / 10));
                            w.Append(']');
                        }
                        uint group = BinaryPrimitives.ReadUInt32BigEndian(p[4..]);
                        if (group == 0) return;
                        w.Append(" [gaddr "); w.AppendIpv4(group);
                        int nsrcs = BinaryPrimitives.ReadUInt16BigEndian(p[10..]);
                        if (nsrcs > 0)
                        {
                            if (length < 12 + (nsrcs << 2)) w.Append(" [invalid number of sources]");
                            else { w.Append(", "); w.Append((uint)nsrcs); w.Append(" source(s)"); }
                        }
                        w.Append(']');
                    }
                    else
                    {
                        if (p.Length < 8) { w.Append(" [|igmp]"); return; }
                        byte mrc = p[1];
                        if (mrc != 0)
                        {
                            w.Append(" v2");
                            if (mrc != 100) { w.Append(" [max resp time "); w.Append((uint)mrc); w.Append(']'); }
                        }
                        else w.Append(" v1");
                        uint group = BinaryPrimitives.ReadUInt32BigEndian(p[4..]);
                        if (group != 0) { w.Append(" [gaddr "); w.AppendIpv4(group); w.Append(']'); }
                        if (length != 8) { w.Append(" [len "); w.Append(length); w.Append(']'); }
                    }
                    return;
                case 0x12:
                case 0x16:
                case 0x17:
                    if (p.Length < 8) { w.Append(" [|igmp]"); return; }
                    w.Append(type == 0x12 ? "igmp v1 report " : type == 0x16 ? "igmp v2 report " : "igmp leave ");
                    w.AppendIpv4(BinaryPrimitives.ReadUInt32BigEndian(p[4..]));
                    if (length != 8) { w.Append(" [len "); w.Append(length); w.Append(']'); }
                    return;
                case 0x22:
                    w.Append("igmp v3 report");
                    if (p.Length < 8) { w.Append(" [|igmp]"); return; }
                    w.Append(", "); w.Append((uint)BinaryPrimitives.ReadUInt16BigEndian(p[6..])); w.Append(" group record(s)");
                    return;
                default:
                    w.Append("igmp-"); w.Append((uint)type);
                    return;
            }
        }

        private static void RelativeTime(ref SummaryWriter w, uint secs)
        {
            if (secs == 0) { w.Append("0s"); return; }
            ReadOnlySpan<uint> units = [31536000, 604800, 86400, 3600, 60, 1];
            ReadOnlySpan<char> suffix = "ywdhms";
            for (int i = 0; i < units.Length; i++)
            {
                if (secs >= units[i])
                {
                    w.Append(secs / units[i]); w.Append(suffix[i]);
                    secs %= units[i];
                }
            }
        }

        // ---- ICMPv6 (RFC 4443, 4861) -----------------------------------------------------------

        private static void Icmp6(ref SummaryWriter w, ReadOnlySpan<byte> p, int length)
        {
            w.Append("ICMP6, ");
            if (p.Length < 1) { w.Append("[|icmp6]"); return; }
            byte type = p[0];
            byte code = p.Length > 1 ? p[1] : (byte)0;
            string? name = type switch
            {
                1 => "destination unreachable", 2 => "packet too big", 3 => "time exceeded in-transit",
                4 => "parameter problem", 128 => "echo request", 129 => "echo reply",
                130 => "multicast listener query", 131 => "multicast listener report", 132 => "multicast listener done",
                133 => "router solicitation", 134 => "router advertisement", 135 => "neighbor solicitation",
                136 => "neighbor advertisement", 137 => "redirect", 138 => "router renumbering",
                139 => "node information query", 140 => "node information reply",
                141 => "inverse neighbor solicitation", 142 => "inverse neighbor advertisement",
                143 => "multicast listener report v2", 144 => "ha discovery request", 145 => "ha discovery reply",
                146 => "mobile router solicitation", 147 => "mobile router advertisement",
                148 => "certification path solicitation", 149 => "certification path advertisement",
                151 => "multicast router advertisement", 152 => "multicast router solicitation",
                153 => "multicast router termination", 155 => "RPL",
                _ => null,
            };
            if (name is null) { w.Append("unknown icmp6 type ("); w.Append((uint)type); w.Append(')'); }
            else w.Append(name);
            switch (type)
            {
                case 1:
                {
                    string? cname = code switch
                    {
                        0 => "unreachable route", 1 => " unreachable prohibited", 2 => "beyond scope",
                        3 => "unreachable address", 4 => "unreachable port", 5 => "failed ingress/egress policy",
                        6 => "reject route", _ => null,
                    };
                    w.Append(", ");
                    if (cname is null) { w.Append("unknown unreach code ("); w.Append((uint)code); w.Append(')'); }
                    else w.Append(cname);
                    const int oip = 8;
                    switch (code)
                    {
                        case 0: case 1: case 3:
                            if (p.Length < oip + 40) { w.Append(" [|icmp6]"); return; }
                            w.Append(' '); w.AppendIp(IpAddr.ReadV6(p[(oip + 24)..]));
                            break;
                        case 2:
                            if (p.Length < oip + 40) { w.Append(" [|icmp6]"); return; }
                            w.Append(' '); w.AppendIp(IpAddr.ReadV6(p[(oip + 24)..]));
                            w.Append(", source address "); w.AppendIp(IpAddr.ReadV6(p[(oip + 8)..]));
                            break;
                        case 4:
                        {
                            if (p.Length < oip + 40) { w.Append(" [|icmp6]"); return; }
                            var inner = p[oip..];
                            Ipv6ExtensionHeaders.Walk(inner[6], inner[40..], out var chain);
                            int u = 40 + chain.UpperOffset;
                            if (chain.Problem is not null || inner.Length < u + 4) { w.Append(" [|icmp6]"); return; }
                            var idst = IpAddr.ReadV6(inner[24..]);
                            ushort dport = BinaryPrimitives.ReadUInt16BigEndian(inner[(u + 2)..]);
                            w.Append(", ");
                            w.AppendIp(idst);
                            if (chain.UpperProtocol == IpProtocol.Tcp) { w.Append(" tcp port "); w.Append((uint)dport); }
                            else if (chain.UpperProtocol == IpProtocol.Udp) { w.Append(" udp port "); w.Append((uint)dport); }
                            else { w.Append(" protocol "); w.Append((uint)chain.UpperProtocol); w.Append(" port "); w.Append((uint)dport); w.Append(" unreachable"); }
                            break;
                        }
                    }
                    break;
                }
                case 2:
                    if (p.Length < 8) { w.Append(" [|icmp6]"); return; }
                    w.Append(", mtu "); w.Append(BinaryPrimitives.ReadUInt32BigEndian(p[4..]));
                    break;
                case 3:
                    if (code == 0)
                    {
                        if (p.Length < 8 + 40) { w.Append(" [|icmp6]"); return; }
                        w.Append(" for "); w.AppendIp(IpAddr.ReadV6(p[(8 + 24)..]));
                    }
                    else if (code == 1) w.Append(" (reassembly)");
                    else { w.Append(", unknown code ("); w.Append((uint)code); w.Append(')'); }
                    break;
                case 4:
                {
                    if (p.Length < 8 + 40) { w.Append(" [|icmp6]"); return; }
                    uint ptr = BinaryPrimitives.ReadUInt32BigEndian(p[4..]);
                    string? what = code switch { 0 => ", erroneous - octet ", 1 => ", next header - octet ", 2 => ", option - octet ", 3 => ", incomplete header chain - octet ", _ => null };
                    if (what is null) { w.Append(", code-#"); w.Append((uint)code); }
                    else { w.Append(what); w.Append(ptr); }
                    break;
                }
                case 128:
                case 129:
                    if (p.Length < 8) { w.Append(" [|icmp6]"); return; }
                    w.Append(", id "); w.Append((uint)BinaryPrimitives.ReadUInt16BigEndian(p[4..]));
                    w.Append(", seq "); w.Append((uint)BinaryPrimitives.ReadUInt16BigEndian(p[6..]));
                    break;
                case 131:
                case 132:
                    if (p.Length < 24) { w.Append(" [|icmp6]"); return; }
                    w.Append("max resp delay: "); w.Append((uint)BinaryPrimitives.ReadUInt16BigEndian(p[4..]));
                    w.Append(" addr: "); w.AppendIp(IpAddr.ReadV6(p[8..]));
                    break;
                case 135:
                    if (p.Length < 24) { w.Append(" [|icmp6]"); return; }
                    w.Append(", who has "); w.AppendIp(IpAddr.ReadV6(p[8..]));
                    break;
                case 136:
                    if (p.Length < 24) { w.Append(" [|icmp6]"); return; }
                    w.Append(", tgt is "); w.AppendIp(IpAddr.ReadV6(p[8..]));
                    break;
                case 137:
                    if (p.Length < 40) { w.Append(" [|icmp6]"); return; }
                    w.Append(", "); w.AppendIp(IpAddr.ReadV6(p[24..]));
                    w.Append(" to "); w.AppendIp(IpAddr.ReadV6(p[8..]));
                    break;
                case 143:
                    if (p.Length < 8) { w.Append(" [|icmp6]"); return; }
                    w.Append(", "); w.Append((uint)BinaryPrimitives.ReadUInt16BigEndian(p[6..])); w.Append(" group record(s)");
                    break;
                case 130:
                    if (length == 24)
                    {
                        if (p.Length < 24) { w.Append(" [|icmp6]"); return; }
                        w.Append("max resp delay: "); w.Append((uint)BinaryPrimitives.ReadUInt16BigEndian(p[4..]));
                        w.Append(" addr: "); w.AppendIp(IpAddr.ReadV6(p[8..]));
                    }
                    else if (length >= 28)
                    {
                        w.Append(" v2");
                        if (p.Length < 28) { w.Append(" [|icmp6]"); return; }
                        w.Append(" [gaddr "); w.AppendIp(IpAddr.ReadV6(p[8..]));
                        int nsrcs = BinaryPrimitives.ReadUInt16BigEndian(p[26..]);
                        if (nsrcs > 0)
                        {
                            if (length < 28 + nsrcs * 16) w.Append(" [invalid number of sources]");
                            else { w.Append(", "); w.Append((uint)nsrcs); w.Append(" source(s)"); }
                        }
                        w.Append(']');
                    }
                    else { w.Append(" unknown-version (len "); w.Append(length); w.Append(") "); }
                    break;
                case 133:
                case 134:
                    break;
            }
            w.Append(", length "); w.Append(length);
        }
    }
}

/// <summary>
/// tcpdump's per-conversation TCP state (its tcp_seq_hash): the first ACK-bearing packet of a
/// conversation (or any SYN) records the initial sequence numbers, and later packets print
/// sequence, acknowledgment and SACK numbers relative to them. One instance per capture file.
/// </summary>
public sealed class PacketSummarySession
{
    private readonly Dictionary<Key, (uint Seq, uint Ack)> _conversations = new();

    private readonly record struct Key(IpAddr A, ushort PortA, IpAddr B, ushort PortB);

    /// <summary>Forgets every conversation.</summary>
    public void Clear() => _conversations.Clear();

    internal void Relative(IpAddr src, ushort sport, IpAddr dst, ushort dport, bool syn,
        ref uint seq, ref uint ack, out uint thSeq, out uint thAck, out bool rev)
    {
        // tcpdump orders the pair by comparing the raw address bytes, then the ports.
        int c = src.Hi != dst.Hi ? src.Hi.CompareTo(dst.Hi) : src.Lo.CompareTo(dst.Lo);
        rev = c > 0 || (c == 0 && sport > dport);
        var key = rev ? new Key(dst, dport, src, sport) : new Key(src, sport, dst, dport);
        if (!_conversations.TryGetValue(key, out var th) || syn)
        {
            th = rev ? (ack - 1, seq) : (seq, ack - 1);
            _conversations[key] = th;
        }
        else if (rev)
        {
            seq -= th.Ack;
            ack -= th.Seq;
        }
        else
        {
            seq -= th.Seq;
            ack -= th.Ack;
        }
        thSeq = th.Seq;
        thAck = th.Ack;
    }
}
