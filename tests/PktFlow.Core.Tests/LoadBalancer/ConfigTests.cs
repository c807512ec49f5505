using PktFlow.Datapath;
using PktFlow.LoadBalancer;
using PktFlow.Topology.Lab;

namespace PktFlow.Tests.LoadBalancer;

/// <summary>The load balancer file: what it accepts and how it names what it does not.</summary>
public class ConfigTests
{
    [Fact]
    public void ReadsTheDocumentedExample()
    {
        var example = File.ReadAllText(Path.Combine(PktFlow.Testing.RepoPaths.Root, "docs", "load-balancer.example.json"));
        var cfg = LoadBalancerConfigReader.Parse(example, "example.json");
        var vip = Assert.Single(cfg.Vips);
        Assert.Equal(LbScheduler.Maglev, vip.Scheduler);
        Assert.Equal(LbForwardingMode.Nat, vip.Mode);
        Assert.Equal(2, vip.Backends.Count);
        Assert.Equal("b1/eth0", vip.Backends[0].At);
    }

    [Theory]
    [InlineData("""{ "vips": [ { "address": "10.0.0.1", "port": 80, "backends": [ { "address": "10.1.0.1", "wieght": 2 } ] } ] }""", "vips[0].backends[0].wieght: unknown member")]
    [InlineData("""{ "vips": [ { "address": "10.0.0.1", "port": 80, "scheduler": "lc", "backends": [ { "address": "10.1.0.1" } ] } ] }""", "vips[0].scheduler: 'lc': expected rr, wlc, sh or maglev")]
    [InlineData("""{ "vips": [ { "address": "10.0.0.1", "port": 80, "tableSize": 65536, "backends": [ { "address": "10.1.0.1" } ] } ] }""", "vips[0].tableSize: 65536 is not prime")]
    [InlineData("""{ "vips": [ { "address": "10.0.0.1", "port": 80, "mode": "gue", "backends": [ { "address": "10.1.0.1" } ] } ] }""", "vips[0].backends[0]: gue to 10.1.0.1 needs the outer source address")]
    [InlineData("""{ "vips": [ { "address": "10.0.0.1", "backends": [ { "address": "10.1.0.1" } ] } ] }""", "vips[0].port: missing")]
    [InlineData("""{ "vips": [ { "address": "10.0.0.1", "port": 80, "backends": [ { "address": "10.1.0.1", "at": "eth0" } ] } ] }""", "vips[0].backends[0].at: 'eth0': expected \"namespace/device\"")]
    [InlineData("""{ "vips": [ { "address": "10.0.0.1", "port": 80, "mode": "nat", "backends": [ { "address": "fd00::1" } ] } ] }""", "not of the VIP's address family")]
    [InlineData("""{ "vips": [ ] """, "not valid JSON")]
    public void ErrorsNameThePath(string json, string expected)
    {
        var e = Assert.Throws<LoadBalancerConfigException>(() => LoadBalancerConfigReader.Parse(json, "lb.json"));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("lb.json: ", e.Message);
    }

    [Fact]
    public void ABackendPlacedWhereTheLabHasNoDeviceIsAnError()
    {
        var cfg = LoadBalancerConfigReader.Parse("""{ "vips": [ { "address": "10.0.0.1", "port": 80, "backends": [ { "address": "10.1.0.1", "at": "b1/eth9" } ] } ] }""", "lb.json");
        var engine = new DatapathEngine(LabLoader.Load(BalancerTests.Lab, "lb.lab"));
        var e = Assert.Throws<LoadBalancerConfigException>(() => new Balancer(cfg).Validate(engine.ResolveInjectionPoint));
        Assert.Contains("vips[0].backends[0].at: b1/eth9: no device 'eth9' in namespace b1", e.Message);
    }
}
