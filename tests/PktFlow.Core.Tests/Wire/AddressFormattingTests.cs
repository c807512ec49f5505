using PktFlow.Wire;
using Xunit;

namespace PktFlow.Tests.Wire;

/// <summary>
/// Addresses write themselves into interpolated details (ISpanFormattable) to save a string per
/// address; the text must be exactly what ToString (and so every trace so far) gives.
/// </summary>
public class AddressFormattingTests
{
    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("10.1.0.2")]
    [InlineData("255.255.255.255")]
    [InlineData("192.168.100.1")]
    [InlineData("2001:db8::1")]
    [InlineData("fe80::200:ff:fe00:101")]
    [InlineData("::ffff:10.1.0.2")]
    [InlineData("::1")]
    public void IpAddr_Interpolated_IsToString(string text)
    {
        var a = IpAddr.Parse(text);
        Assert.Equal(a.ToString(), $"{a}");
        Assert.Equal($"[{a.ToString()}]", $"[{a}]");
        Assert.False(a.TryFormat(stackalloc char[3], out _, default, null) && a.ToString().Length > 3);
    }

    [Fact]
    public void IpAddr_V4_RandomValues_MatchDottedQuad()
    {
        var rng = new Random(7);
        for (int i = 0; i < 1000; i++)
        {
            uint v = (uint)rng.NextInt64(0, 1L << 32);
            var a = IpAddr.V4(v);
            Assert.Equal($"{v >> 24}.{(v >> 16) & 0xFF}.{(v >> 8) & 0xFF}.{v & 0xFF}", $"{a}");
        }
    }

    [Fact]
    public void MacAddress_Interpolated_IsToString()
    {
        var m = MacAddress.Parse("02:00:0a:ff:01:9c");
        Assert.Equal("02:00:0a:ff:01:9c", m.ToString());
        Assert.Equal("x 02:00:0a:ff:01:9c y", $"x {m} y");
        Assert.False(m.TryFormat(stackalloc char[16], out _, default, null));
    }
}
