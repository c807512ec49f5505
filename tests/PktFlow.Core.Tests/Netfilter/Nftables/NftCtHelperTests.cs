using PktFlow.Netfilter.Conntrack;
using PktFlow.Netfilter.Iptables;
using PktFlow.Netfilter.Nftables;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// Assigning conntrack helpers and matching what they expected: nft ct helper objects and
/// <c>ct helper "NAME"</c>, iptables <c>-j CT --helper</c> in raw and <c>-m helper --helper</c>. Both
/// matches read the helper of the connection's master (nft_ct_get_eval NFT_CT_HELPER, helper_mt).
/// </summary>
public class NftCtHelperTests
{
    private static NftCtInfo Expected(string? masterHelper) => new("related", "original", 0, "expected") { MasterHelper = masterHelper };

    [Theory]
    [InlineData("ftp", true)]
    [InlineData("tftp", false)]
    [InlineData(null, false)] // no master: NFT_BREAK
    public void CtHelper_ReadsTheMastersHelper(string? master, bool matches)
    {
        var rs = NftStateTests.Rules("ct helper \"ftp\" accept\ndrop", "");
        var r = NftEvaluator.RunHook(rs, NftFamily.Inet, NftHookPoint.Input, FakeNftPacket.Tcp4("10.1.0.2", "10.1.0.1", 1000, 40001, ct: Expected(master)), state: new NftState(1, "h"));
        Assert.Equal(matches ? "accept" : "drop", r.Verdict);
    }

    [Fact]
    public void HelperObjects_TakeOnlyTheirProtocolAndFamily_AndTheFirstOneCounts()
    {
        const string decls = """
            ct helper f { type "ftp" protocol tcp; l3proto ip6; }
            ct helper g { type "ftp" protocol tcp; }
            ct helper t { type "tftp" protocol udp; }
            """;
        var rs = NftStateTests.Rules("ct helper set \"t\"\nct helper set \"f\"\nct helper set \"g\"\nct helper set \"g\"", decls);
        var r = NftEvaluator.RunHook(rs, NftFamily.Inet, NftHookPoint.Input, FakeNftPacket.Tcp4("10.1.0.2", "10.1.0.1", 1000, 21), state: new NftState(1, "h"));
        Assert.Equal("g", r.CtHelper?.Name); // t is for udp, f for IPv6 connections
        Assert.Same(ConntrackHelper.Ftp, r.CtHelper!.Helper);
        Assert.Empty(r.Notes);
    }

    [Fact]
    public void AHelperTheKernelHasButTheModelLacks_IsSaidUnsupported_AndAnUnknownNameIsRefused()
    {
        var rs = NftStateTests.Rules("ct helper set \"s\" accept", "ct helper s { type \"sip\" protocol udp; }");
        var r = NftEvaluator.RunHook(rs, NftFamily.Inet, NftHookPoint.Input, FakeNftPacket.Udp4("10.1.0.2", "10.1.0.1", 1000, 5060), state: new NftState(1, "h"));
        Assert.Null(r.CtHelper);
        Assert.Contains("unsupported: the sip conntrack helper is not modelled", Assert.Single(r.Notes));
        var e = Assert.Throws<NftParseException>(() => NftRuleset.Parse("table inet t { ct helper h { type \"foo\" protocol tcp; } }", "h.nft"));
        Assert.Contains("No such file or directory", e.Message);
    }

    private const string Iptables = """
        *raw
        :PREROUTING ACCEPT [0:0]
        -A PREROUTING -p tcp -m tcp --dport 21 -j CT --helper ftp
        COMMIT
        *filter
        :FORWARD DROP [0:0]
        -A FORWARD -m helper ! --helper tftp -j ACCEPT
        COMMIT
        """;

    [Fact]
    public void IptablesCtHelper_GivesATemplate_AndMinusMHelperIsNftsCtHelper()
    {
        var rs = IptablesRestore.Load(Iptables, "rules.v4", false);
        var raw = NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Prerouting, FakeNftPacket.Tcp4("10.1.0.2", "10.2.0.2", 40021, 21), state: new NftState(1, "h"));
        Assert.Same(ConntrackHelper.Ftp, raw.CtTemplateHelper);
        var other = NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Prerouting, FakeNftPacket.Tcp4("10.1.0.2", "10.2.0.2", 40021, 22), state: new NftState(1, "h"));
        Assert.Null(other.CtTemplateHelper);

        string Forward(string? master) => NftEvaluator.RunHook(rs, NftFamily.Ip, NftHookPoint.Forward,
            FakeNftPacket.Tcp4("10.1.0.2", "10.2.0.2", 41001, 40001, ct: Expected(master)), state: new NftState(1, "h")).Verdict;
        // iptables-nft makes -m helper ! --helper tftp `ct helper != "tftp"`: a connection without a master
        // does not match (NFT_BREAK), where xt_helper's invert would have matched it
        Assert.Equal("accept", Forward("ftp"));
        Assert.Equal("drop", Forward("tftp"));
        Assert.Equal("drop", Forward(null));
        Assert.Equal("ct helper != \"tftp\" counter packets 0 bytes 0 accept", rs.Tables.Single(t => t.Name == "filter").Chains[0].Rules[0].Text);
    }

    [Theory]
    [InlineData("-A PREROUTING -j CT --helper ftp", "You must specify a L4 protocol")]
    [InlineData("-A PREROUTING -p tcp -j CT --helper foo", "No such file or directory")]
    [InlineData("-A PREROUTING -p udp -j CT --helper sip", "unsupported: CT --helper sip")]
    [InlineData("-A PREROUTING -p tcp -j CT --helper ftp --expevents new,destroy", "Unknown event type \"destroy\"")]
    public void IptablesCtHelpersThatCannotLoad_SayWhy(string rule, string message)
    {
        var e = Assert.Throws<IptablesParseException>(() => IptablesRestore.Load($"*raw\n:PREROUTING ACCEPT [0:0]\n{rule}\nCOMMIT\n", "rules.v4", false));
        Assert.Contains(message, e.Message);
    }
}
