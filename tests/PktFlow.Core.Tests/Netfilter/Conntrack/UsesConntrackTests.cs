using PktFlow.Topology;
using PktFlow.Topology.Lab;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>
/// Which rulesets switch conntrack on in a namespace (nf_ct_netns_get from a ct expression's, NAT's or
/// xt_CT's init): the word `ct` in a rule, not a chain or set whose name ends in "ct", nor a comment.
/// </summary>
public class UsesConntrackTests
{
    [Theory]
    [InlineData("ct state established accept", true)]
    [InlineData("meta mark set ct mark", true)]
    [InlineData("ip saddr 10.0.0.1 ct original proto-dst 80", true)]
    [InlineData("jump direct", false)]
    [InlineData("ip saddr @strict counter", false)]
    [InlineData("counter comment \"ct state is not needed\"", false)]
    [InlineData("notrack", false)]
    public void TheWordCtInARule(string rule, bool uses)
    {
        var lab = $$"""
            nft -f - <<'NFT'
            table inet t {
                set strict { type ipv4_addr; }
                chain direct { }
                chain c {
                    type filter hook prerouting priority 0
                    {{rule}}
                }
            }
            NFT
            """;
        Assert.Equal(uses, LabLoader.Load(lab, "ct.lab").Namespaces[0].UsesConntrack);
    }

    // nf_ct_netns_get(net, family): an ip table hooks IPv4 conntrack, ip6 IPv6, inet both (br-nf-dnat6:
    // with only an ip6 nat table the kernel kept no entry for bridged IPv4 pings)
    [Theory]
    [InlineData("ip", true, false)]
    [InlineData("ip6", false, true)]
    [InlineData("inet", true, true)]
    public void PerFamily(string family, bool v4, bool v6)
    {
        var lab = $$"""
            nft -f - <<'NFT'
            table {{family}} nat {
                chain pre {
                    type nat hook prerouting priority dstnat
                }
            }
            NFT
            """;
        var ns = LabLoader.Load(lab, "ct.lab").Namespaces[0];
        Assert.Equal((v4, v6), (ns.UsesConntrackV4, ns.UsesConntrackV6));
    }

    // nf_ct_netns_get(NFPROTO_BRIDGE) takes bridge plus inet: both families
    [Fact]
    public void ABridgeTableTakesBothFamilies()
    {
        var ns = LabLoader.Load("nft add table bridge b\nnft add chain bridge b c\nnft add rule bridge b c meta mark set ct mark\n", "ct.lab").Namespaces[0];
        Assert.Equal((true, true), (ns.UsesConntrackV4, ns.UsesConntrackV6));
    }

    // measured on 6.18 (`unshare -n nft -f`): "Could not process rule: Protocol error" for ct in arp and netdev tables
    [Theory]
    [InlineData("arp", "ct state established accept")]
    [InlineData("netdev", "ct mark 1 accept")]
    [InlineData("netdev", "ct mark set 1")]
    public void CtInAnArpOrNetdevTableIsRefused(string family, string rule)
    {
        var lab = $"nft add table {family} t\nnft add chain {family} t c\nnft add rule {family} t c {rule}\n";
        var e = Assert.ThrowsAny<Exception>(() => LabLoader.Load(lab, "ct.lab"));
        Assert.Contains("Protocol error", e.Message);
    }
}
