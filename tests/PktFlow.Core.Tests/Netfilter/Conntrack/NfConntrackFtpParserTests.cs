using System.Text;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>
/// find_pattern of nf_conntrack_ftp: what it finds at the start of a segment in each direction. A
/// partial match (which makes the kernel drop the packet) is -1, no command 0.
/// </summary>
public class NfConntrackFtpParserTests
{
    private static FtpMatch Find(string text, CtDirection dir, string sender) =>
        NfConntrackFtp.FindPattern(Encoding.ASCII.GetBytes(text), dir, IpAddr.Parse(sender));

    [Theory]
    [InlineData("PORT 10,1,0,2,156,67\r\n", FtpCommand.Port, "10.1.0.2", 40003)]
    [InlineData("port 192,168,1,10,0,21\r\n", FtpCommand.Port, "192.168.1.10", 21)] // strncasecmp
    [InlineData("EPRT |1|10.1.0.2|40004|\r\n", FtpCommand.Eprt, "10.1.0.2", 40004)]
    [InlineData("EPRT !1!10.1.0.2!6000!\r\n", FtpCommand.Eprt, "10.1.0.2", 6000)] // any printable non-digit delimiter
    [InlineData("227 Entering Passive Mode (10,2,0,2,156,65)\r\n", FtpCommand.Pasv227, "10.2.0.2", 40001)]
    [InlineData("227 =10,2,0,2,156,65\r\n", FtpCommand.Pasv227, "10.2.0.2", 40001)] // RFC 1123: no parentheses
    [InlineData("227 Entering Passive Mode (10,2,0,2,300,1)\r\n", FtpCommand.Pasv227, "10.2.0.2", (300 << 8 | 1) & 0xFFFF)] // not range-checked: 16 bits kept
    [InlineData("229 Entering Extended Passive Mode (|||40002|)\r\n", FtpCommand.Epsv229, "10.2.0.9", 40002)] // the sender's own address
    public void CommandsAndReplies_AnnounceAddressAndPort(string line, FtpCommand command, string address, int port)
    {
        // PORT and EPRT come from the client (original direction), 227 and 229 from the server (reply)
        var dir = command is FtpCommand.Port or FtpCommand.Eprt ? CtDirection.Original : CtDirection.Reply;
        var m = Find(line, dir, "10.2.0.9");
        Assert.True(m.IsMatch);
        Assert.Equal(command, m.Command);
        Assert.Equal(IpAddr.Parse(address), m.Address);
        Assert.Equal(port, m.Port);
    }

    [Fact]
    public void EprtOfAnIpv6Connection_TakesFamily2()
    {
        var m = Find("EPRT |2|2001:db8::2|6000|\r\n", CtDirection.Original, "2001:db8::2");
        Assert.True(m.IsMatch);
        Assert.Equal(IpAddr.Parse("2001:db8::2"), m.Address);
        Assert.Equal(6000, m.Port);
        Assert.True(Find("EPRT |1|10.1.0.2|6000|\r\n", CtDirection.Original, "2001:db8::2").IsPartial);
    }

    [Theory]
    [InlineData("PORT 10,1,0,2,156,67\n", CtDirection.Original)] // the terminator is \r
    [InlineData("PORT 10,1,0\r\n", CtDirection.Original)]
    [InlineData("PORT  10,1,0,2,156,67\r\n", CtDirection.Original)] // the numbers start right after one space
    [InlineData("PORT 10,1,0,2,156,67", CtDirection.Original)] // the rest of the line in the next segment
    [InlineData("POR", CtDirection.Original)] // shorter than the pattern and starting like it
    [InlineData("PORT", CtDirection.Original)]
    [InlineData("PORTX", CtDirection.Original)] // no space to skip to
    [InlineData("EPRT |2|2001:db8::1|5000|\r\n", CtDirection.Original)] // family 2 on an IPv4 connection
    [InlineData("EPRT |1|10.1.0.2|0|\r\n", CtDirection.Original)] // port 0
    [InlineData("EPRT 1|10.1.0.2|5|\r\n", CtDirection.Original)] // a digit as delimiter
    [InlineData("227 Entering Passive Mode\r\n", CtDirection.Reply)] // no digit at all
    [InlineData("227 Entering Passive Mode (10,2,0,2)\r\n", CtDirection.Reply)]
    [InlineData("229 Entering Extended Passive Mode (|||0|)\r\n", CtDirection.Reply)]
    [InlineData("229 no parenthesis\r\n", CtDirection.Reply)]
    [InlineData("22", CtDirection.Reply)]
    public void MalformedOrCutCommands_ArePartial(string text, CtDirection dir) =>
        Assert.True(Find(text, dir, "10.1.0.2").IsPartial);

    [Theory]
    [InlineData("USER anonymous\r\n", CtDirection.Original)]
    [InlineData("227 Entering Passive Mode (10,2,0,2,156,65)\r\n", CtDirection.Original)] // a reply is looked for from the server only
    [InlineData("PORT 10,1,0,2,156,67\r\n", CtDirection.Reply)]
    [InlineData("230 Logged in\r\n", CtDirection.Reply)]
    [InlineData("331 ok 227 Entering Passive Mode (10,2,0,2,156,65)\r\n", CtDirection.Reply)] // only at the start of the segment
    [InlineData("x", CtDirection.Reply)]
    public void OtherLines_AreNoCommand(string text, CtDirection dir)
    {
        var m = Find(text, dir, "10.2.0.2");
        Assert.False(m.IsMatch);
        Assert.False(m.IsPartial);
    }
}
