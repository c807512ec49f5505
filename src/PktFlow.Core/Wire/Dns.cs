using System.Buffers.Binary;

namespace PktFlow.Wire;

// DNS message header (RFC 1035 4.1.1):
//
//                                  1  1  1  1  1  1
//    0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
//  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//  |                      ID                       |
//  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//  |QR|   Opcode  |AA|TC|RD|RA| Z|AD|CD|   RCODE   |
//  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//  |                    QDCOUNT                    |
//  |                    ANCOUNT                    |
//  |                    NSCOUNT                    |
//  |                    ARCOUNT                    |
//  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//
// Names are label sequences with compression pointers (RFC 1035 4.1.4).

/// <summary>The DNS one-line summary tcpdump prints without -v (only what PacketSummary needs).</summary>
internal static class Dns
{
    private const int HeaderLength = 12;

    public static void Print(ref SummaryWriter w, ReadOnlySpan<byte> msg, int length)
    {
        if (msg.Length < HeaderLength) { w.Append(" [|domain]"); return; }
        ushort id = BinaryPrimitives.ReadUInt16BigEndian(msg);
        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(msg[2..]);
        int qd = BinaryPrimitives.ReadUInt16BigEndian(msg[4..]);
        int an = BinaryPrimitives.ReadUInt16BigEndian(msg[6..]);
        int ns = BinaryPrimitives.ReadUInt16BigEndian(msg[8..]);
        int ar = BinaryPrimitives.ReadUInt16BigEndian(msg[10..]);
        int opcode = (flags >> 11) & 0xF;
        int rcode = flags & 0xF;
        bool qr = (flags & 0x8000) != 0;
        w.Append((uint)id);
        string? op = opcode switch { 0 => "", 1 => " inv_q", 2 => " stat", 4 => " notify", 5 => " update", _ => null };
        if (op is null) { w.Append(" op"); w.Append((uint)opcode); } else w.Append(op);
        int pos = HeaderLength;
        if (qr)
        {
            if (rcode != 0)
            {
                w.Append(' ');
                w.Append(rcode switch
                {
                    1 => "FormErr", 2 => "ServFail", 3 => "NXDomain", 4 => "NotImp", 5 => "Refused",
                    6 => "YXDomain", 7 => "YXRRSet", 8 => "NXRRSet", 9 => "NotAuth", 10 => "NotZone", _ => "Resp" + rcode,
                });
            }
            if ((flags & 0x0400) != 0) w.Append('*');
            if ((flags & 0x0080) == 0) w.Append('-');
            if ((flags & 0x0200) != 0) w.Append('|');
            if ((flags & 0x0020) != 0) w.Append('$');
            if (qd != 1) { w.Append(" ["); w.Append((uint)qd); w.Append("q]"); }
            for (int i = 0; i < qd; i++)
            {
                pos = SkipName(msg, pos);
                if (pos < 0 || pos + 4 > msg.Length) { w.Append(" [|domain]"); return; }
                pos += 4;
            }
            w.Append(' '); w.Append((uint)an); w.Append('/'); w.Append((uint)ns); w.Append('/'); w.Append((uint)ar);
            for (int i = 0; i < an; i++)
            {
                if (i > 0) w.Append(',');
                pos = Record(ref w, msg, pos);
                if (pos < 0) { w.Append(" [|domain]"); return; }
            }
        }
        else
        {
            if ((flags & 0x0100) != 0) w.Append('+');
            if ((flags & 0x0010) != 0) w.Append('%');
            if ((flags & 0x6CF) != 0) { w.Append(" [b2&3=0x"); w.AppendHex(flags); w.Append(']'); }
            if (qd != 1) { w.Append(" ["); w.Append((uint)qd); w.Append("q]"); }
            if (an != 0) { w.Append(" ["); w.Append((uint)an); w.Append("a]"); }
            if (ns != 0) { w.Append(" ["); w.Append((uint)ns); w.Append("n]"); }
            if (ar != 0) { w.Append(" ["); w.Append((uint)ar); w.Append("au]"); }
            for (int i = 0; i < qd; i++)
            {
                if (pos >= msg.Length) break;
                int end = SkipName(msg, pos);
                if (end < 0 || end + 4 > msg.Length) { w.Append(" [|domain]"); return; }
                ushort qtype = BinaryPrimitives.ReadUInt16BigEndian(msg[end..]);
                ushort qclass = BinaryPrimitives.ReadUInt16BigEndian(msg[(end + 2)..]);
                w.Append(' '); TypeName(ref w, qtype);
                if ((qclass & 0x7FFF) != 1) { w.Append(' '); ClassName(ref w, qclass); }
                w.Append("? ");
                if (!Name(ref w, msg, pos)) { w.Append(" [|domain]"); return; }
                pos = end + 4;
            }
        }
        w.Append(" ("); w.Append(length); w.Append(')');
    }

    private static int Record(ref SummaryWriter w, ReadOnlySpan<byte> msg, int pos)
    {
        int end = SkipName(msg, pos);
        if (end < 0 || end + 10 > msg.Length) return -1;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(msg[end..]);
        ushort cls = BinaryPrimitives.ReadUInt16BigEndian(msg[(end + 2)..]);
        int rdlen = BinaryPrimitives.ReadUInt16BigEndian(msg[(end + 8)..]);
        int rd = end + 10;
        if (rd + rdlen > msg.Length) return -1;
        w.Append(' ');
        TypeName(ref w, type);
        if (type != 41 && (cls & 0x7FFF) != 1) { w.Append(' '); ClassName(ref w, cls); }
        switch (type)
        {
            case 1:
                if (rdlen != 4) return -1;
                w.Append(' '); w.AppendIpv4(BinaryPrimitives.ReadUInt32BigEndian(msg[rd..]));
                break;
            case 28:
                if (rdlen != 16) return -1;
                w.Append(' '); w.AppendIp(IpAddr.ReadV6(msg[rd..]));
                break;
            case 2: case 5: case 12:
                w.Append(' ');
                if (!Name(ref w, msg, rd)) return -1;
                break;
            case 15:
                if (rdlen < 3) return -1;
                w.Append(' ');
                if (!Name(ref w, msg, rd + 2)) return -1;
                w.Append(' '); w.Append((uint)BinaryPrimitives.ReadUInt16BigEndian(msg[rd..]));
                break;
        }
        return rd + rdlen;
    }

    private static void TypeName(ref SummaryWriter w, ushort type)
    {
        string? n = type switch
        {
            1 => "A", 2 => "NS", 5 => "CNAME", 6 => "SOA", 12 => "PTR", 13 => "HINFO", 15 => "MX", 16 => "TXT",
            28 => "AAAA", 33 => "SRV", 35 => "NAPTR", 41 => "OPT", 43 => "DS", 46 => "RRSIG", 47 => "NSEC",
            48 => "DNSKEY", 64 => "SVCB", 65 => "HTTPS", 99 => "SPF", 252 => "AXFR", 255 => "ANY", 257 => "CAA",
            _ => null,
        };
        if (n is null) { w.Append("Type"); w.Append((uint)type); } else w.Append(n);
    }

    private static void ClassName(ref SummaryWriter w, ushort cls)
    {
        switch (cls)
        {
            case 1: w.Append("IN"); break;
            case 3: w.Append("CHAOS"); break;
            case 4: w.Append("HS"); break;
            case 255: w.Append("ANY"); break;
            default: w.Append("(Class "); w.Append((uint)cls); w.Append(')'); break;
        }
    }

    /// <summary>Offset after the name at <paramref name="pos"/> (not following pointers), or -1.</summary>
    private static int SkipName(ReadOnlySpan<byte> msg, int pos)
    {
        while (pos < msg.Length)
        {
            int l = msg[pos];
            if (l == 0) return pos + 1;
            if ((l & 0xC0) == 0xC0) return pos + 2 <= msg.Length ? pos + 2 : -1;
            if ((l & 0xC0) != 0) return -1;
            pos += l + 1;
        }
        return -1;
    }

    private static bool Name(ref SummaryWriter w, ReadOnlySpan<byte> msg, int pos)
    {
        int hops = 0;
        bool any = false;
        while (pos < msg.Length)
        {
            int l = msg[pos];
            if (l == 0)
            {
                if (!any) w.Append('.');
                return true;
            }
            if ((l & 0xC0) == 0xC0)
            {
                if (pos + 1 >= msg.Length || ++hops > 32) return false;
                pos = (l & 0x3F) << 8 | msg[pos + 1];
                continue;
            }
            if ((l & 0xC0) != 0 || pos + 1 + l > msg.Length) return false;
            foreach (byte b in msg.Slice(pos + 1, l))
            {
                if (b is >= 0x21 and <= 0x7E && b != '.' && b != '\\') w.Append((char)b);
                else if (b == '.' || b == '\\') { w.Append('\\'); w.Append((char)b); }
                else { w.Append('\\'); w.Append((uint)(b / 100)); w.Append((uint)(b / 10 % 10)); w.Append((uint)(b % 10)); }
            }
            w.Append('.');
            any = true;
            pos += l + 1;
        }
        return false;
    }
}
