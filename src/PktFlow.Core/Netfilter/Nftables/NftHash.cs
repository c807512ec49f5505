using System.Buffers.Binary;

namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// <c>jhash EXPR mod N [seed S] [offset O]</c> (nft_hash.c, nft_jhash_eval): the kernel's jhash of the
/// source registers (each part of a concatenation padded to a 32-bit register, host-order values in
/// x86's little-endian order), scaled into [0, N) by reciprocal_scale, plus the offset. Without a seed
/// the kernel draws one at load (get_random_bytes): which bucket a key lands in is then unknown, so the
/// model draws each distinct key's bucket once from the replay's seeded generator (a random decision,
/// listed by -Outcomes All) and keeps it for every later packet with that key.
/// </summary>
internal sealed class JhashSelector : NftSelector
{
    public NftSelector Source = null!;
    public uint Modulus, Offset;
    public uint? Seed;
    public override NftType Type => NftType.Int4;
    public override bool HostOrder => true;
    public override bool DrawsRandom => Seed is null || Source.DrawsRandom;

    public override bool Load(NftEvalCtx c, Span<byte> dst)
    {
        var parts = Source is ConcatSelector cs ? cs.Parts : new[] { Source };
        int len = parts.Length == 1 ? parts[0].Length : parts.Sum(p => (p.Length + 3) & ~3);
        Span<byte> data = stackalloc byte[(len + 3) & ~3];
        data.Clear();
        int o = 0;
        foreach (var p in parts)
        {
            var slot = data.Slice(o, p.Length);
            if (!p.Load(c, slot)) return false;
            if (p.HostOrder) slot.Reverse(); // the register holds it in host (little-endian) order
            o += parts.Length == 1 ? p.Length : (p.Length + 3) & ~3;
        }
        uint h = Seed is { } seed
            ? NftHashes.Scale(NftHashes.Jhash(data[..len], seed), Modulus)
            : NftHashes.Draw(c, this, Convert.ToHexString(data[..len]), Modulus, "jhash");
        BinaryPrimitives.WriteUInt32BigEndian(dst, h + Offset);
        return true;
    }
}

/// <summary>
/// <c>symhash mod N [offset O]</c> (nft_symhash_eval): __skb_get_hash_symmetric, the flow dissector's
/// hash of addresses and ports in a direction-independent order, keyed with a secret the kernel draws
/// at boot. Like an unseeded jhash, each flow's bucket is drawn once from the replay's seeded generator;
/// both directions of a flow share it.
/// </summary>
internal sealed class SymhashSelector : NftSelector
{
    public uint Modulus, Offset;
    public override NftType Type => NftType.Int4;
    public override bool HostOrder => true;
    public override bool DrawsRandom => true;

    public override bool Load(NftEvalCtx c, Span<byte> dst)
    {
        BinaryPrimitives.WriteUInt32BigEndian(dst, NftHashes.Draw(c, this, FlowKey(c.P), Modulus, "symhash") + Offset);
        return true;
    }

    /// <summary>The flow the symmetric hash covers: the lower address and port first, whichever way the packet goes.</summary>
    private static string FlowKey(INftPacket p)
    {
        var n = p.Network;
        var l3 = NetProto(p);
        int alen = l3 == L3.V4 ? 4 : l3 == L3.V6 ? 16 : 0;
        if (alen == 0 || n.Length < (alen == 4 ? 20 : 40)) return "other";
        var a = n.Slice(alen == 4 ? 12 : 8, alen); var b = n.Slice(alen == 4 ? 16 : 24, alen);
        ushort pa = 0, pb = 0;
        if (p.L4Protocol is 6 or 17 or 132 or 136 && p.TransportOffset >= 0 && n.Length >= p.TransportOffset + 4)
        {
            pa = BinaryPrimitives.ReadUInt16BigEndian(n[p.TransportOffset..]);
            pb = BinaryPrimitives.ReadUInt16BigEndian(n[(p.TransportOffset + 2)..]);
        }
        string x = $"{Convert.ToHexString(a)}:{pa}", y = $"{Convert.ToHexString(b)}:{pb}";
        return string.CompareOrdinal(x, y) <= 0 ? $"{x}-{y}/{p.L4Protocol}" : $"{y}-{x}/{p.L4Protocol}";
    }
}

internal static class NftHashes
{
    private const uint InitVal = 0xdeadbeef; // JHASH_INITVAL

    /// <summary>reciprocal_scale(h, n): h scaled into [0, n).</summary>
    public static uint Scale(uint h, uint n) => (uint)((ulong)h * n >> 32);

    /// <summary>A bucket drawn once per distinct key from the replay's seeded generator (the kernel's secret seed is unknown).</summary>
    public static uint Draw(NftEvalCtx c, object selector, string flow, uint modulus, string what)
    {
        if (c.State.HashDraw(selector, flow) is { } known) return known;
        var alts = new string[modulus]; var probs = new double[modulus];
        for (uint k = 0; k < modulus; k++) { alts[k] = $"{what} bucket {k} (secret seed)"; probs[k] = NumgenSelector.Share(k, modulus); }
        uint v = (uint)c.State.Choose(c.Rule, alts, probs, r => (int)Scale(r, modulus));
        c.State.SetHashDraw(selector, flow, v);
        return v;
    }

    /// <summary>jhash() of include/linux/jhash.h (Bob Jenkins' lookup3), words read in little-endian order.</summary>
    public static uint Jhash(ReadOnlySpan<byte> k, uint initval)
    {
        uint length = (uint)k.Length;
        uint a, b, c;
        a = b = c = InitVal + length + initval;
        while (length > 12)
        {
            a += BinaryPrimitives.ReadUInt32LittleEndian(k);
            b += BinaryPrimitives.ReadUInt32LittleEndian(k[4..]);
            c += BinaryPrimitives.ReadUInt32LittleEndian(k[8..]);
            Mix(ref a, ref b, ref c);
            length -= 12; k = k[12..];
        }
        if (length == 0) return c;
        // the tail: bytes 0..3 into a, 4..7 into b, 8..11 into c, each at its little-endian place
        for (int i = (int)length - 1; i >= 0; i--)
        {
            uint v = (uint)k[i] << (8 * (i & 3));
            if (i >= 8) c += v; else if (i >= 4) b += v; else a += v;
        }
        Final(ref a, ref b, ref c);
        return c;
    }

    private static void Mix(ref uint a, ref uint b, ref uint c)
    {
        a -= c; a ^= uint.RotateLeft(c, 4); c += b;
        b -= a; b ^= uint.RotateLeft(a, 6); a += c;
        c -= b; c ^= uint.RotateLeft(b, 8); b += a;
        a -= c; a ^= uint.RotateLeft(c, 16); c += b;
        b -= a; b ^= uint.RotateLeft(a, 19); a += c;
        c -= b; c ^= uint.RotateLeft(b, 4); b += a;
    }

    private static void Final(ref uint a, ref uint b, ref uint c)
    {
        c ^= b; c -= uint.RotateLeft(b, 14);
        a ^= c; a -= uint.RotateLeft(c, 11);
        b ^= a; b -= uint.RotateLeft(a, 25);
        c ^= b; c -= uint.RotateLeft(b, 16);
        a ^= c; a -= uint.RotateLeft(c, 4);
        b ^= a; b -= uint.RotateLeft(a, 14);
        c ^= b; c -= uint.RotateLeft(b, 24);
    }
}
