using PktFlow.Topology.Lab;
using Xunit;

namespace PktFlow.Tests.Topology;

/// <summary>Sysctls.Conf (per-device keys, cached) reads what Get of the whole key reads, fallbacks included.</summary>
public class SysctlConfTests
{
    private const string Lab = """
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip link set eth1 address 02:00:00:00:02:01
        ip link set eth1 up
        sysctl -w net.ipv4.conf.default.rp_filter=2
        sysctl -w net.ipv4.conf.eth1.rp_filter=1
        sysctl -w net.ipv4.ip_forward=1
        """;

    [Theory]
    [InlineData("ipv4", "eth0", "rp_filter", "2")]   // falls back to conf.default
    [InlineData("ipv4", "eth1", "rp_filter", "1")]   // set on the device
    [InlineData("ipv4", "eth0", "forwarding", "1")]  // ip_forward propagates to every device
    [InlineData("ipv4", "eth0", "arp_ignore", null)] // unknown to the model: no default
    [InlineData("ipv6", "eth0", "disable_ipv6", "0")]
    public void Conf_ReadsWhatGetReads(string family, string device, string name, string? expected)
    {
        var s = LabLoader.Load(Lab, "conf.lab").Host.Sysctls;
        Assert.Equal(s.Get($"net.{family}.conf.{device}.{name}"), s.Conf(family, device, name));
        Assert.Equal(expected, s.Conf(family, device, name));
        Assert.Equal(expected, s.Conf(family, device, name)); // from the cache
        Assert.Equal(expected is { } v && v != "0", s.ConfIsOn(family, device, name));
    }
}
