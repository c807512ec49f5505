using PktFlow.Routing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Routing;

/// <summary>
/// __ip_rt_update_pmtu / __ip6_rt_update_pmtu as the model keeps them (PmtuExceptions), with the
/// outcomes 6.18 showed in tests/scenarios/pmtu-learned: min_pmtu clamps and locks, a route's mtu
/// lock refuses IPv4 updates, IPv6 ignores an mtu below 1280, and an exception ends at mtu_expires.
/// </summary>
public class PmtuExceptionsTests
{
    private const long S = 1_000_000_000;

    private static PktFlow.Topology.NetNamespace Host(string extra = "") => LabLoader.Load($"""
        ip link add eth0 type veth peer name p0
        ip link set eth0 up
        ip addr add 10.1.0.2/24 dev eth0
        ip -6 addr add 2001:db8:1::2/64 dev eth0
        ip route add default via 10.1.0.1
        ip -6 route add default via 2001:db8:1::1
        ip route add 10.4.0.6/32 via 10.1.0.1 mtu lock 1500
        {extra}
        """, "pmtu.lab").Host;

    private static readonly IpAddr Src = IpAddr.Parse("10.1.0.2"), Src6 = IpAddr.Parse("2001:db8:1::2");

    [Fact]
    public void ALearnedMtuExpiresAfterMtuExpires()
    {
        var ns = Host("sysctl -w net.ipv4.route.mtu_expires=15");
        var table = new PmtuExceptions();
        var dst = IpAddr.Parse("10.3.0.2");
        Assert.StartsWith("learned: path MTU 1280", table.Update(ns, Src, dst, 1280, 10 * S));
        Assert.Equal(1280, table.Find(dst, 24 * S)?.Mtu);
        Assert.Null(table.Find(dst, 25 * S));
        Assert.Empty(table.Valid(25 * S));
    }

    [Fact]
    public void TheDefaultLifetimeIs600Seconds()
    {
        var table = new PmtuExceptions();
        var dst = IpAddr.Parse("10.3.0.2");
        table.Update(Host(), Src, dst, 1400, 0);
        Assert.NotNull(table.Find(dst, 599 * S));
        Assert.Null(table.Find(dst, 600 * S));
    }

    [Fact]
    public void AnMtuBelowMinPmtuIsClampedAndLocked()
    {
        var ns = Host();
        var table = new PmtuExceptions();
        var dst = IpAddr.Parse("10.4.0.5");
        Assert.Contains("clamped and locked", table.Update(ns, Src, dst, 500, 0));
        var e = table.Find(dst, S)!;
        Assert.Equal(552, e.Mtu);
        Assert.True(e.Locked);
        // locked: a later, smaller or larger, mtu does not take
        Assert.Contains("locked: ignored", table.Update(ns, Src, dst, 1000, 2 * S));
        Assert.Equal(552, table.Find(dst, 3 * S)!.Mtu);
    }

    [Fact]
    public void MinPmtuComesFromTheSysctl()
    {
        var table = new PmtuExceptions();
        var dst = IpAddr.Parse("10.4.0.5");
        table.Update(Host("sysctl -w net.ipv4.route.min_pmtu=1000"), Src, dst, 800, 0);
        Assert.Equal(1000, table.Find(dst, S)!.Mtu);
    }

    [Fact]
    public void ARouteWithALockedMtuLearnsNothing()
    {
        var table = new PmtuExceptions();
        Assert.Contains("locked mtu: ignored", table.Update(Host(), Src, IpAddr.Parse("10.4.0.6"), 1300, 0));
        Assert.Null(table.Find(IpAddr.Parse("10.4.0.6"), S));
    }

    [Fact]
    public void ALargerMtuDoesNotReplaceASmallerOne()
    {
        var ns = Host();
        var table = new PmtuExceptions();
        var dst = IpAddr.Parse("10.4.0.4");
        table.Update(ns, Src, dst, 1300, 0);
        Assert.Contains("above the current 1300: ignored", table.Update(ns, Src, dst, 1400, S));
        Assert.Equal(1300, table.Find(dst, 2 * S)!.Mtu);
    }

    [Fact]
    public void Ipv6IgnoresAnMtuBelow1280AndOneNotBelowTheCurrent()
    {
        var ns = Host();
        var table = new PmtuExceptions();
        Assert.Contains("below IPV6_MIN_MTU", table.Update(ns, Src6, IpAddr.Parse("2001:db8:4::5"), 1000, 0));
        Assert.Contains("not below the current 1500", table.Update(ns, Src6, IpAddr.Parse("2001:db8:4::5"), 1500, 0));
        Assert.Null(table.Find(IpAddr.Parse("2001:db8:4::5"), S));
        Assert.StartsWith("learned: path MTU 1300", table.Update(ns, Src6, IpAddr.Parse("2001:db8:4::4"), 1300, 0));
        Assert.Null(table.Find(IpAddr.Parse("2001:db8:4::4"), 600 * S));
    }

    [Fact]
    public void ExpiredExceptionsAreForgottenAsNewOnesArrive()
    {
        var ns = Host("sysctl -w net.ipv4.route.mtu_expires=10");
        var table = new PmtuExceptions();
        for (int i = 0; i < 200; i++) table.Update(ns, Src, IpAddr.V4(0x0A050000u + (uint)i), 1300, i * S);
        // at 200 s only the last 9 are in force (learned at 191 to 199 s), and the table holds no more than a sweep's worth beyond them
        Assert.Equal(9, table.Valid(200 * S).Count());
        Assert.True(table.Count < 64 + 10, $"{table.Count} exceptions kept");
    }
}
