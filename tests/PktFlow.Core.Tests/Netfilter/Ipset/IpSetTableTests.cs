using PktFlow.Netfilter.Ipset;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Ipset;

/// <summary>
/// ipset commands and the set types' tests, as ipset v7.17 and 6.18 answer them (`ipset test` and the
/// messages of refused commands were checked in a namespace).
/// </summary>
public class IpSetTableTests
{
    private static IpSetTable Sets(params string[] lines)
    {
        var t = new IpSetTable();
        foreach (var l in lines) t.Apply(PktFlow.Topology.Lab.ShellWords.Split(l).Single().Words.ToList());
        return t;
    }

    private static IpAddr A(string s) => IpAddr.Parse(s);

    [Theory]
    // the most specific prefix wins; a nomatch element answers -ENOTEMPTY
    [InlineData("10.0.0.9", 1)]
    [InlineData("10.0.0.1", -1)]
    [InlineData("10.0.0.2", 1)]
    [InlineData("10.0.1.1", 0)]
    public void HashNetMostSpecificWinsAndNomatch(string ip, int expected)
    {
        var s = Sets("create a hash:net", "add a 10.0.0.0/24", "add a 10.0.0.0/30 nomatch", "add a 10.0.0.2").Find("a")!;
        Assert.Equal(expected, s.Test(A(ip), 0, 0, default));
    }

    [Fact]
    public void HashIpPortIsExactOnProtocolAndPort()
    {
        var s = Sets("create s hash:ip,port", "add s 10.0.0.2,tcp:80", "add s 10.0.0.2,53", "add s 10.0.0.2,udp:5-6", "add s 10.0.0.2,icmp:echo-request", "add s 10.0.0.2,gre:0").Find("s")!;
        Assert.Equal(1, s.Test(A("10.0.0.2"), 6, 80, default));
        Assert.Equal(0, s.Test(A("10.0.0.2"), 17, 80, default));
        Assert.Equal(1, s.Test(A("10.0.0.2"), 6, 53, default)); // no protocol: tcp
        Assert.Equal(1, s.Test(A("10.0.0.2"), 17, 6, default));
        Assert.Equal(1, s.Test(A("10.0.0.2"), 1, 8 << 8, default));
        Assert.Equal(1, s.Test(A("10.0.0.2"), 47, 0, default));
        Assert.Equal(0, s.Test(A("10.0.0.3"), 6, 80, default));
        Assert.Equal(6, s.Elements.Count);
    }

    [Fact]
    public void HashIpPortNetTakesTheMostSpecificThirdPrefix()
    {
        var s = Sets("create t hash:ip,port,net", "add t 10.0.0.1,udp:53,192.168.0.0/16", "add t 10.0.0.1,udp:53,192.168.1.0/24 nomatch").Find("t")!;
        Assert.Equal(1, s.Test(A("10.0.0.1"), 17, 53, A("192.168.2.1")));
        Assert.Equal(-1, s.Test(A("10.0.0.1"), 17, 53, A("192.168.1.1")));
        var u = Sets("create u hash:ip,port,ip", "add u 10.0.0.1,tcp:22,10.0.0.2").Find("u")!;
        Assert.Equal(1, u.Test(A("10.0.0.1"), 6, 22, A("10.0.0.2")));
        Assert.Equal(0, u.Test(A("10.0.0.1"), 6, 22, A("10.0.0.3")));
    }

    [Fact]
    public void HashIpExpandsPrefixesAndRanges_BitmapPortKeepsItsRange()
    {
        var s = Sets("create h hash:ip family inet", "add h 10.0.0.0/30", "add h 10.0.1.1-10.0.1.2").Find("h")!;
        Assert.Equal(6, s.Elements.Count);
        Assert.Equal(1, s.Test(A("10.0.0.3"), 0, 0, default));
        var b = Sets("create b bitmap:port range 1000-2000", "add b 1500").Find("b")!;
        Assert.Equal(1, b.Test(default, 6, 1500, default));
        Assert.Equal(0, b.Test(default, 6, 1501, default));
        Assert.Throws<IpSetException>(() => Sets("create b bitmap:port range 1000-2000", "add b 80"));
    }

    [Fact]
    public void SaveOutputLoadsWithItsExtensions()
    {
        // what `ipset save` printed on 6.18
        var t = Sets("create svc hash:ip,port family inet hashsize 1024 maxelem 65536 timeout 300 counters comment bucketsize 12 initval 0x8bbdb33b",
            "add svc 10.0.0.1,tcp:80 timeout 299 packets 0 bytes 0 comment \"web\"",
            "create allow6 hash:net family inet6 hashsize 1024 maxelem 65536 bucketsize 12 initval 0x6c34424a",
            "add allow6 2001:db8::/32", "add allow6 2001:db8:1::/48 nomatch");
        var e = t.Find("svc")!.Elements.Single();
        Assert.Equal(("web", 299u), (e.Comment, e.Timeout));
        Assert.True(t.Find("allow6")!.V6);
        Assert.Equal(-1, t.Find("allow6")!.Test(A("2001:db8:1::5"), 0, 0, default));
    }

    [Theory]
    [InlineData("add nosuch 10.0.0.1", "The set with the given name does not exist")]
    [InlineData("add a 10.0.0.0/8", "Element cannot be added to the set: it's already added")]
    [InlineData("add a 0.0.0.0/0", "The value of the CIDR parameter of the IP address is invalid")]
    [InlineData("create a hash:net", "Set cannot be created: set with the same name already exists")]
    [InlineData("add a 10.1.0.0/16 timeout 5", "Timeout cannot be used: set was created without timeout support")]
    [InlineData("del a 10.9.0.0/16", "Element cannot be deleted from the set: it's not added")]
    [InlineData("create l list:set", "unsupported: ipset type 'list:set'")]
    public void RefusedAsIpsetRefusesIt(string command, string message)
    {
        var e = Assert.Throws<IpSetException>(() => Sets("create a hash:net", "add a 10.0.0.0/8", command));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void ExistMakesRepeatsHarmless_SwapFollowsTheName()
    {
        var t = Sets("create a hash:net", "add a 10.0.0.0/8", "-exist create a hash:net", "add -exist a 10.0.0.0/8", "del a 10.9.0.0/16 -exist",
            "create b hash:net", "add b 192.168.0.0/16", "swap a b");
        Assert.Equal(1, t.Find("a")!.Test(A("192.168.1.1"), 0, 0, default));
        Assert.Equal(1, t.Find("b")!.Test(A("10.1.1.1"), 0, 0, default));
        t.Apply(new[] { "destroy", "b" });
        Assert.Null(t.Find("b"));
    }

    [Fact]
    public void ElementsTimeOutFromTheCapturesStart()
    {
        var s = Sets("create t hash:ip timeout 30", "add t 10.0.0.1", "add t 10.0.0.2 timeout 5", "add t 10.0.0.3 timeout 0").Find("t")!;
        const long second = 1_000_000_000;
        Assert.Equal(1, s.Test(A("10.0.0.2"), 0, 0, default, 4 * second));
        Assert.Equal(0, s.Test(A("10.0.0.2"), 0, 0, default, 5 * second));
        Assert.Equal(1, s.Test(A("10.0.0.1"), 0, 0, default, 29 * second)); // the set's default
        Assert.Equal(0, s.Test(A("10.0.0.1"), 0, 0, default, 30 * second));
        Assert.Equal(1, s.Test(A("10.0.0.3"), 0, 0, default, 3600 * second)); // 0: permanent
    }
}
