using PktFlow.Netfilter.Nftables;
using PktFlow.Testing;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// The runtime of the forms the nftables py tests gained last: the catch-all element, meta mark prefixes,
/// ct id, raw and reset tcp options, the bridge meta keys, meta sdif, dup and fwd from maps, user names.
/// Semantics from net/netfilter (nft_lookup, nft_exthdr, nft_meta_bridge, nft_meta, nft_dup, nft_fwd_netdev),
/// loads checked with nft 1.0.6 on 6.18.
/// </summary>
public class NftPyTestRuntimeTests
{
    private static NftHookResult Run(string table, string body, FakeNftPacket p, NftFamily family = NftFamily.Ip, NftHookPoint hook = NftHookPoint.Input)
    {
        var hookText = family == NftFamily.Netdev ? "ingress device \"eth0\"" : hook.ToString().ToLowerInvariant();
        var rs = NftRuleset.Parse($"table {table} t {{\n chain c {{ type filter hook {hookText} priority 0; policy accept;\n {body}\n }}\n}}\n", "r.nft");
        return NftEvaluator.RunHook(rs, family, hook, p);
    }

    private static string Verdict(string body, FakeNftPacket p) => Run("ip", body, p).Verdict;

    [Theory]
    [InlineData("1.1.1.1", "drop")]
    [InlineData("10.0.0.1", "accept")] // no element: the catch-all
    public void Vmap_CatchAllTakesWhatNoElementHolds(string src, string verdict) =>
        Assert.Equal(verdict, Verdict("ip saddr vmap { 1.1.1.1 : drop, * : accept }\n counter drop", FakeNftPacket.Tcp4(src, "10.0.0.2", 1, 22)));

    [Fact]
    public void CatchAll_IsTriedOnlyAfterEveryElementMissed()
    {
        Assert.Equal("accept", Verdict("ip saddr vmap { * : drop, 10.0.0.1 : accept }", FakeNftPacket.Tcp4("10.0.0.1", "10.0.0.2", 1, 22)));
        Assert.Equal("drop", Verdict("ip saddr vmap { * : drop, 10.0.0.1 : accept }", FakeNftPacket.Tcp4("10.0.0.9", "10.0.0.2", 1, 22)));
    }

    [Fact]
    public void Map_CatchAllData()
    {
        var p = FakeNftPacket.Tcp4("10.0.0.7", "10.0.0.2", 1, 22);
        Run("ip", "meta mark set ip saddr map { 1.1.1.1 : 0x00000001, * : 0x00000002 }", p);
        Assert.Equal(2u, p.Mark);
    }

    [Fact]
    public void AnonymousSetWithCatchAll_MatchesAnyKey_NamedSetToo()
    {
        Assert.Equal("drop", Verdict("ip saddr { 1.1.1.1, * } drop", FakeNftPacket.Tcp4("10.9.9.9", "10.0.0.2", 1, 22)));
        var rs = NftRuleset.Parse("table ip t {\n set s { type ipv4_addr; elements = { 1.2.3.4, * }; }\n chain c { type filter hook input priority 0; ip saddr @s drop; }\n}\n", "s.nft");
        Assert.Equal("drop", NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Input, FakeNftPacket.Tcp4("10.9.9.9", "10.0.0.2", 1, 22)).Verdict);
        // no transport header: the key is not loaded, so not even the catch-all is looked at
        Assert.Equal("accept", Verdict("tcp dport vmap { 22 : accept, * : drop }", FakeNftPacket.Icmp4("10.0.0.1", "10.0.0.2")));
    }

    [Theory]
    [InlineData(0xffffff12u, true)]
    [InlineData(0xffffff00u, true)]
    [InlineData(0xfffffe00u, false)]
    public void MarkPrefix_ComparesTheTopBits(uint mark, bool match)
    {
        var p = FakeNftPacket.Tcp4("10.0.0.1", "10.0.0.2", 1, 22); p.Mark = mark;
        Assert.Equal(match ? "drop" : "accept", Run("ip", "meta mark 0xffffff00/24 drop", p).Verdict);
    }

    [Fact]
    public void CtId_NoConnectionIsNoMatch_AConnectionIsUnknown()
    {
        var none = Run("ip", "ct id 12345 drop", FakeNftPacket.Tcp4("10.0.0.1", "10.0.0.2", 1, 22));
        Assert.Equal("accept", none.Verdict);
        Assert.Empty(none.Unknowns);
        var ct = new NftCtInfo("new", "original", 0, "");
        var some = Run("ip", "ct id 12345 drop", FakeNftPacket.Tcp4("10.0.0.1", "10.0.0.2", 1, 22, ct: ct));
        Assert.Equal("accept", some.Verdict);
        Assert.Contains(some.Unknowns, u => u.StartsWith("unsupported: ct id", StringComparison.Ordinal) && u.Contains("secret"));
    }

    /// <summary>MSS 1460, SACK permitted, kind 255 (len 4, data 0xab 0xcd), EOL padding.</summary>
    private static FakeNftPacket WithOptions()
    {
        byte[] options = [2, 4, 0x05, 0xb4, 4, 2, 255, 4, 0xab, 0xcd, 0, 0];
        var tcp = PktFlow.Tests.Wire.FrameBuilder.Tcp("10.0.0.1", "10.0.0.2", 40000, 22, 1, 0, TcpFlags.Syn, options);
        return new FakeNftPacket { Net = FrameBuilder.Ipv4(IpAddr.Parse("10.0.0.1"), IpAddr.Parse("10.0.0.2"), 6, tcp), L4Protocol = 6, TransportOffset = 20 };
    }

    [Theory]
    [InlineData("tcp option @255,16,8 0xab", true)]
    [InlineData("tcp option @255,16,16 0xabcd", true)]
    [InlineData("tcp option @255,8,8 4", true)] // the option's length byte
    [InlineData("tcp option @255,8,8 5", false)]
    [InlineData("tcp option @255,24,16 0xcd00", false)] // past the option's 4 bytes: NFT_BREAK
    [InlineData("tcp option @254,8,8 4", false)]
    public void RawTcpOption_ReadsTheOptionsBytes(string rule, bool match) =>
        Assert.Equal(match ? "drop" : "accept", Run("ip", rule + " drop", WithOptions()).Verdict);

    [Fact]
    public void RawTcpOption_OffAByteBoundaryIsRefused() =>
        Assert.Contains("off a byte boundary", Assert.Throws<NftParseException>(() => Run("ip", "tcp option @255,4,8 255", WithOptions())).Message);

    [Fact]
    public void ResetTcpOption_WritesNopsAndKeepsTheChecksumRight()
    {
        var p = WithOptions();
        var r = Run("ip", "reset tcp option sack-perm reset tcp option 255 tcp option sack-perm exists drop", p);
        Assert.Equal("accept", r.Verdict); // gone: the presence test no longer matches
        var tcp = p.Net.AsSpan(20);
        Assert.Equal(new byte[] { 2, 4, 0x05, 0xb4, 1, 1, 1, 1, 1, 1, 0, 0 }, tcp.Slice(20, 12).ToArray());
        var check = System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(tcp[16..]);
        tcp[16] = 0; tcp[17] = 0;
        Assert.Equal(Checksum.Transport(IpAddr.Parse("10.0.0.1"), IpAddr.Parse("10.0.0.2"), 6, tcp), check);
    }

    [Fact]
    public void ResetTcpOption_AbsentOptionLetsTheRuleGoOn_NotTcpStopsIt()
    {
        Assert.Equal("drop", Run("ip", "reset tcp option timestamp drop", WithOptions()).Verdict);
        Assert.Equal("accept", Run("ip", "reset tcp option timestamp drop", FakeNftPacket.Icmp4("10.0.0.1", "10.0.0.2")).Verdict);
    }

    private static FakeNftPacket Bridged(NftBridgePort? port) =>
        new() { Family = NftFamily.Bridge, Net = FakeNftPacket.Tcp4("10.0.0.1", "10.0.0.2", 1, 22).Net, L4Protocol = 6, TransportOffset = 20, InputBridge = port };

    [Theory]
    [InlineData("meta ibrname \"br0\"", true, true)]
    [InlineData("meta ibrname \"br1\"", true, false)]
    [InlineData("meta ibrname \"br0\"", false, false)]
    [InlineData("meta ibrname \"\"", false, true)] // no bridge port: an empty name, not NFT_BREAK
    [InlineData("meta obrname \"br0\"", true, false)] // no output device at input
    [InlineData("meta ibrpvid 10", true, true)]
    [InlineData("meta ibrvproto vlan", true, true)]
    [InlineData("meta ibrvproto 8021ad", true, false)]
    public void BridgeMeta_ReadsThePortsBridge(string rule, bool port, bool match)
    {
        var p = Bridged(port ? new NftBridgePort("br0", true, 0x8100, 10) : null);
        Assert.Equal(match ? "drop" : "accept", Run("bridge", rule + " drop", p, NftFamily.Bridge).Verdict);
    }

    [Fact]
    public void BridgePvid_WithoutVlanFilteringIsNoMatch() =>
        Assert.Equal("accept", Run("bridge", "meta ibrpvid 0 drop", Bridged(new NftBridgePort("br0", false, 0x8100, 0)), NftFamily.Bridge).Verdict);

    [Theory]
    [InlineData("ip", "input", "meta ibrname \"br0\"", "Operation not supported")]
    [InlineData("inet", "input", "meta obrname \"br0\"", "Operation not supported")]
    [InlineData("ip", "output", "meta sdif \"lo\"", "Operation not supported")]
    [InlineData("bridge", "input", "meta sdif 0", "Operation not supported")]
    [InlineData("ip", "output", "meta skuid \"no-such-user-here\"", "User does not exist")]
    [InlineData("ip", "output", "meta skgid \"no-such-group-here\"", "Group does not exist")]
    public void RefusedAsTheKernelOrNftDoes(string family, string hook, string rule, string reason) =>
        Assert.Contains(reason, Assert.Throws<NftParseException>(() =>
            NftRuleset.Parse($"table {family} t {{ chain c {{ type filter hook {hook} priority 0; {rule}; }}; }}", "r.nft")).Message);

    [Theory]
    [InlineData("output", "meta sdif is read in input and forward chains only, not output")]
    [InlineData("prerouting", "meta sdifname is read in input and forward chains only, not prerouting")]
    public void Sdif_InARegularChainIsRefusedWhenAChainOfAnotherHookJumpsToIt(string hook, string reason)
    {
        // nft_chain_validate_hooks: the commit walks the jump and the expression's validate refuses the hook
        string rule = reason.StartsWith("meta sdifname", StringComparison.Ordinal) ? "meta sdifname \"vrf1\"" : "meta sdif 0";
        var text = $"table inet t {{ chain reg {{ {rule} accept; }}; chain c {{ type filter hook {hook} priority 0; jump reg; }}; }}";
        var e = Assert.Throws<NftParseException>(() => NftRuleset.Parse(text, "r.nft"));
        Assert.Contains("jump to chain 'reg'", e.Message);
        Assert.Contains(reason, e.Message);
        // from input the same chain is fine
        NftRuleset.Parse(text.Replace($"hook {hook}", "hook input"), "r.nft");
    }

    [Theory]
    [InlineData("meta sdif \"lo\"", false)]
    [InlineData("meta sdif 0", true)]
    [InlineData("meta sdifname != \"vrf1\"", true)]
    [InlineData("meta sdifname \"\"", true)]
    public void Sdif_IsZeroWithoutAnL3mdev(string rule, bool match) =>
        Assert.Equal(match ? "drop" : "accept", Run("ip", rule + " drop", FakeNftPacket.Tcp4("10.0.0.1", "10.0.0.2", 1, 22)).Verdict);

    [Fact]
    public void Sdif_OfAnUnbuiltMasterIsUnknown()
    {
        var p = FakeNftPacket.Tcp4("10.0.0.1", "10.0.0.2", 1, 22);
        p = new FakeNftPacket { Net = p.Net, L4Protocol = 6, TransportOffset = 20, Sdif = null };
        Assert.Contains(Run("ip", "meta sdifname \"vrf1\" drop", p).Unknowns, u => u.StartsWith("unsupported: meta sdifname", StringComparison.Ordinal));
    }

    [Fact]
    public void DupToAnAddressFromAMap()
    {
        var hit = Run("ip", "dup to ip saddr map { 192.168.2.120 : 192.168.2.1 } device \"lo\"", FakeNftPacket.Tcp4("192.168.2.120", "10.0.0.2", 1, 22));
        var dup = Assert.Single(hit.Dups).Dup;
        Assert.Equal(IpAddr.Parse("192.168.2.1"), dup.Address);
        Assert.Equal("lo", dup.Device);
        Assert.Empty(Run("ip", "dup to ip saddr map { 192.168.2.120 : 192.168.2.1 }", FakeNftPacket.Tcp4("10.0.0.1", "10.0.0.2", 1, 22)).Dups);
    }

    [Theory]
    [InlineData(1u, "stolen", "lo")]
    [InlineData(2u, "stolen", "eth1")]
    [InlineData(3u, "accept", null)] // no element: the rule stops
    public void FwdToADeviceFromAMap(uint mark, string verdict, string? device)
    {
        var p = FakeNftPacket.Tcp4("10.0.0.1", "10.0.0.2", 1, 22); p.Mark = mark;
        var r = Run("netdev", "fwd to meta mark map { 0x00000001 : \"lo\", 0x00000002 : \"eth1\" }", p, NftFamily.Netdev, NftHookPoint.Ingress);
        Assert.Equal(verdict, r.Verdict);
        Assert.Equal(device, r.Fwd?.Device);
    }

    [Fact]
    public void UserNames_AsTheHostResolvesThem()
    {
        var rs = NftRuleset.Parse("table ip t { chain c { type filter hook output priority 0; meta skuid \"root\" accept; }; }", "r.nft");
        Assert.Single(rs.AllRules);
    }

    [Fact]
    public void CtTupleInInet_TakesTheFamilyFromMetaNfproto()
    {
        var rs = NftRuleset.Parse("table inet t { chain c { type filter hook input priority 0; meta nfproto ipv4 ct original saddr 1.2.3.4 drop; }; }", "r.nft");
        Assert.Single(rs.AllRules);
    }
}
