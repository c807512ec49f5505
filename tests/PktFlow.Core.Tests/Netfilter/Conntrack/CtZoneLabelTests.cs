using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Netfilter.Iptables;
using PktFlow.Netfilter.Nftables;
using PktFlow.Testing;
using PktFlow.Tests.Netfilter.Nftables.Json;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>
/// Conntrack zones (nft ct zone set, xt_CT --zone) and labels (ct label set, xt_connlabel): a zone is a
/// template attached before conntrack, keying the lookup (per direction: nf_ct_zone_id); a zone set after
/// conntrack changes nothing (nft_ct_set_zone_eval: the packet already has its conntrack); labels go into
/// the connection at once. Behaviour checked on 6.18 with nft 1.0.6 and iptables-nft 1.8.9.
/// </summary>
public class CtZoneLabelTests
{
    private const string Host = """
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip addr add 192.168.1.1/24 dev eth0
        """;

    private const string NftZone = Host + """

        nft -f - <<'NFT'
        table inet f {
            chain raw {
                type filter hook prerouting priority raw; policy accept;
                tcp dport 22 ct zone set 5
            }
            chain input {
                type filter hook input priority filter; policy accept;
                tcp dport 22 ct zone set 9
                ct zone 5 ct label 3 drop
                ct zone 5 ct label set 3
            }
        }
        NFT
        """;

    private const string IptZone = Host + """

        iptables-restore <<'IPT'
        *raw
        :PREROUTING ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        -A PREROUTING -p tcp --dport 22 -j CT --zone 5
        COMMIT
        *filter
        :INPUT ACCEPT [0:0]
        -A INPUT -p tcp -m connlabel --label 3 -j DROP
        -A INPUT -p tcp --dport 22 -m connlabel --label 3 --set
        COMMIT
        IPT
        """;

    static readonly MacAddress HostMac = MacAddress.Parse("02:00:00:00:01:01"), ClientMac = MacAddress.Parse("02:00:00:00:01:02");
    static readonly IpAddr Client = IpAddr.Parse("192.168.1.2"), Server = IpAddr.Parse("192.168.1.1");

    static PacketTrace Send(DatapathEngine engine, ushort dport, long number)
    {
        var frame = FrameBuilder.Ethernet(HostMac, ClientMac, EtherTypes.Ipv4,
            FrameBuilder.Ipv4(Client, Server, IpProtocol.Tcp, FrameBuilder.Tcp(Client, Server, 40000, dport, 0x02), ttl: 64));
        return engine.Process(new CaptureFrame(number, number * 1_000_000, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame),
            "t.pcap", engine.ResolveInjectionPoint("eth0"));
    }

    [Theory]
    [InlineData(NftZone)]
    [InlineData(IptZone)]
    public void TheZoneKeysTheEntryAndTheLabelIsMatchedByLaterPackets(string lab)
    {
        var engine = new DatapathEngine(LabLoader.Load(lab, "z.lab"));
        var syn = Send(engine, 22, 1);
        Assert.NotEqual(Fate.Dropped, syn.Fate);
        Assert.Contains(syn.Path, e => e.Stage == "NfConntrackIn" && e.Detail!.Contains("looked up in zone 5"));
        var entry = Assert.Single(engine.States[0].Conntrack.Entries);
        Assert.Equal(5, entry.Zone); // the input chain's ct zone set 9 came after conntrack: nothing changed
        Assert.Equal(UInt128.One << 3, entry.Labels);
        Assert.Contains(" zone=5 ", entry.ToString());
        // the retransmitted SYN finds the labelled entry in zone 5: dropped by label
        Assert.Equal(Fate.Dropped, Send(engine, 22, 2).Fate);
        // another port is in zone 0, unlabelled
        Assert.NotEqual(Fate.Dropped, Send(engine, 23, 3).Fate);
        Assert.Contains(engine.States[0].Conntrack.Entries, e => e.Zone == 0 && e.Labels == 0);
    }

    [Fact]
    public void TheSameTupleInTwoZonesIsTwoEntries()
    {
        var t = new ConntrackTable();
        var udp = CtPackets.Udp(CtPackets.A, CtPackets.C, 5000, 53);
        foreach (ushort z in new ushort[] { 1, 2 })
        {
            var r = t.In(udp, false, 1, z);
            Assert.Equal(CtState.New, r.State);
            Assert.True(t.Confirm(r.Entry!));
        }
        Assert.Equal(new[] { 1, 2 }, t.Entries.Select(e => (int)e.Zone).Order());
        Assert.Equal(CtState.Established, t.In(CtPackets.Udp(CtPackets.C, CtPackets.A, 53, 5000), false, 2, (ushort)2).State);
        // a zone of both directions keys the reply tuple too: a reply without the template is no reply
        // of either (6.18: ping replies left in zone 0 leave the zone's entry [UNREPLIED])
        Assert.Equal(CtDirection.Original, t.In(CtPackets.Udp(CtPackets.C, CtPackets.A, 53, 5000), false, 2).Direction);
        // zone 0 has neither: a new entry again
        Assert.Equal(CtState.New, t.In(udp, false, 3).State);
    }

    [Fact]
    public void AZoneOfTheOriginalDirectionKeysTheReplyTupleInZone0()
    {
        var t = new ConntrackTable();
        var first = t.In(CtPackets.Udp(CtPackets.A, CtPackets.C, 5000, 53), false, 1, new ConntrackZone(7, ConntrackZone.OriginalDirection));
        Assert.True(t.Confirm(first.Entry!));
        Assert.Contains(" zone-orig=7 ", first.Entry!.ToString());
        Assert.DoesNotContain(" zone=", first.Entry.ToString());
        // the reply, without a template (zone 0), finds the entry by its reply tuple
        var reply = t.In(CtPackets.Udp(CtPackets.C, CtPackets.A, 53, 5000), false, 2);
        Assert.Same(first.Entry, reply.Entry);
        Assert.Equal(CtDirection.Reply, reply.Direction);
        // the original tuple in zone 0 is another connection
        Assert.NotSame(first.Entry, t.In(CtPackets.Udp(CtPackets.A, CtPackets.C, 5000, 53), false, 3).Entry);
    }

    private static string Rule(string r) => $"table inet t {{\n chain c {{\n  type filter hook prerouting priority raw\n  {r}\n }}\n}}\n";

    [Theory]
    [InlineData("ct reply id 12345", "unsupported ct expression 'ct reply id'")]
    [InlineData("ct zone set 65536", "exceeds valid range 0-65535")]
    [InlineData("ct zone set meta mark", "datatype mismatch")]
    [InlineData("ct label 128", "bit 128 out of range")]
    [InlineData("ct label < 3", "unsupported: ct label <")]
    [InlineData("ct label set blocked", "could not parse conntrack label \"blocked\"")]
    [InlineData("ct label set 1,2", "unexpected comma")]
    [InlineData("ct label set ct mark", "datatype mismatch: expected conntrack label")]
    [InlineData("ct original label 5", "unsupported ct expression 'ct original label'")]
    public void WhatNftOrTheModelRefusesIsRefusedWithItsReason(string rule, string reason)
    {
        var e = Assert.Throws<NftParseException>(() => NftRuleset.Parse(Rule(rule), "z.nft"));
        Assert.Contains(reason, e.Message);
    }

    private const string LabelHost = Host + """

        nft -f - <<'NFT'
        table inet f {
            chain input {
                type filter hook input priority filter; policy accept;
                ct state new ct label set 1 | 5
                RULE drop
            }
        }
        NFT
        """;

    /// <summary>
    /// A connection labelled 1 and 5: a bare label (or list) is "any of these bits" (bitwise, cmp neq 0);
    /// ==, !=, sets, maps and verdict maps compare all 128 bits (nft 1.0.6 --debug=netlink: cmp eq/neq,
    /// lookup of the whole register).
    /// </summary>
    [Theory]
    [InlineData("ct label 5", true)]
    [InlineData("ct label 7,1", true)]
    [InlineData("ct label 7", false)]
    [InlineData("ct label == 5", false)]
    [InlineData("ct label == 1,5", true)]
    [InlineData("ct label == 1 | 5", true)]
    [InlineData("ct label != 5", true)]
    [InlineData("ct label != 1,5", false)]
    [InlineData("ct label & 5 == 5", true)]
    [InlineData("ct label & (1 | 7) == 1", true)]
    [InlineData("ct label { 5, 7 }", false)]
    [InlineData("ct label { 1 | 5, 7 }", true)]
    [InlineData("ct label != { 5, 7 }", true)]
    [InlineData("ct label . tcp dport { 1 | 5 . 22 }", true)]
    [InlineData("ct label . tcp dport { 1 | 5 . 23 }", false)]
    [InlineData("meta mark set ct label map { 1 | 5 : 3 } meta mark 3", true)]
    [InlineData("ct label set tcp dport map { 22 : 7 } ct label == 1 | 5 | 7", true)]
    [InlineData("ct label set tcp dport map { 23 : 7 } ct label 7", false)]
    public void LabelsCompareAsNftCompilesThem(string rule, bool dropped)
    {
        var engine = new DatapathEngine(LabLoader.Load(LabelHost.Replace("RULE", rule), "l.lab"));
        Assert.Equal(dropped, Send(engine, 22, 1).Fate == Fate.Dropped);
    }

    /// <summary>nft 1.0.6 takes a named set `typeof ct label` (not `type ct_label`: unknown datatype), though it cannot list it.</summary>
    [Theory]
    [InlineData("1 | 5, 7", true)]
    [InlineData("5, 7", false)]
    public void ANamedSetOfLabelsComparesTheWholeValue(string elements, bool dropped)
    {
        var lab = LabelHost.Replace("chain input {", $"set s {{ typeof ct label; elements = {{ {elements} }} }}\n    chain input {{").Replace("RULE", "ct label @s");
        Assert.Equal(dropped, Send(new DatapathEngine(LabLoader.Load(lab, "l.lab")), 22, 1).Fate == Fate.Dropped);
    }

    [Fact]
    public void AVerdictMapOfLabelsComparesTheWholeValue()
    {
        var lab = LabelHost.Replace("RULE drop", "ct label vmap { 5 : accept, 1 | 5 : drop }");
        Assert.Equal(Fate.Dropped, Send(new DatapathEngine(LabLoader.Load(lab, "l.lab")), 22, 1).Fate);
    }

    [Fact]
    public void LabelNamesComeFromTheConnlabelConfGiven()
    {
        var names = ConnLabelMap.Parse("# names\n3 blocked\n1 web\n", "connlabel.conf");
        NftRuleset.Parse(Rule("ct label set blocked"), "z.nft", new NftLoadOptions { ConnLabels = names });
        // nft lists names quoted, and takes them in sets, maps and masks like numbers
        NftRuleset.Parse(Rule("ct label \"web\",blocked ct label != { web | blocked, 7 } ct label & blocked == blocked ct label set web | 2"), "z.nft", new NftLoadOptions { ConnLabels = names });
        Assert.Equal("web,blocked", names.Listing(UInt128.One << 1 | UInt128.One << 3 | UInt128.One << 5)); // bit 5 has no name: left out
        var ipt = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m connlabel --label blocked -j DROP\nCOMMIT\n";
        IptablesRestore.Load(ipt, "r.v4", false, new IptablesLoadOptions { ConnLabels = names });
        var e = Assert.Throws<IptablesParseException>(() => IptablesRestore.Load(ipt, "r.v4", false));
        Assert.Contains("label 'blocked' not found", e.Message);
        Assert.Throws<FormatException>(() => ConnLabelMap.Parse("128 big\n", "connlabel.conf"));
    }

    /// <summary>
    /// What `nft -j list ruleset` printed (nft 1.0.6, /etc/connlabel.conf naming 1 one, 5 five) for
    /// ct label five; ct label set 1|5; ct label == one,five; ct label != five; ct label 1,7;
    /// ct label &amp; five == five: names as strings, | as an object, a list as an array. It compiles to
    /// what the text compiles to.
    /// </summary>
    [Fact]
    public void JsonLabelsByNameAndNumberCompileAsTheirText()
    {
        var names = ConnLabelMap.Parse("1 one\n5 five\n", "connlabel.conf");
        var opt = new NftLoadOptions { ConnLabels = names };
        const string L = "{\"ct\": {\"key\": \"label\"}}";
        string[] exprs =
        {
            $"{{\"match\": {{\"op\": \"in\", \"left\": {L}, \"right\": \"five\"}}}}",
            $"{{\"mangle\": {{\"key\": {L}, \"value\": {{\"|\": [\"one\", \"five\"]}}}}}}",
            $"{{\"match\": {{\"op\": \"==\", \"left\": {L}, \"right\": {{\"|\": [\"one\", \"five\"]}}}}}}",
            $"{{\"match\": {{\"op\": \"!=\", \"left\": {L}, \"right\": \"five\"}}}}",
            $"{{\"match\": {{\"op\": \"in\", \"left\": {L}, \"right\": [\"one\", 7]}}}}",
            $"{{\"match\": {{\"op\": \"==\", \"left\": {{\"&\": [{L}, \"five\"]}}, \"right\": \"five\"}}}}",
            $"{{\"mangle\": {{\"key\": {L}, \"value\": 7}}}}",
        };
        var json = "{\"nftables\": [{\"table\": {\"family\": \"inet\", \"name\": \"t\"}}, "
            + "{\"chain\": {\"family\": \"inet\", \"table\": \"t\", \"name\": \"c\", \"type\": \"filter\", \"hook\": \"input\", \"prio\": 0, \"policy\": \"accept\"}}, "
            + string.Join(", ", exprs.Select(e => $"{{\"rule\": {{\"family\": \"inet\", \"table\": \"t\", \"chain\": \"c\", \"expr\": [{e}]}}}}")) + "]}";
        var text = "table inet t {\n chain c {\n  type filter hook input priority 0; policy accept;\n"
            + "  ct label \"five\"\n  ct label set \"one\" | \"five\"\n  ct label == one,five\n  ct label != \"five\"\n  ct label \"one\",7\n  ct label & \"five\" == \"five\"\n  ct label set 7\n }\n}\n";
        var fromJson = NftRuleset.ParseJson(json, "l.json", opt);
        Assert.Equal(7, fromJson.AllRules.Count());
        Assert.Equal(string.Join('\n', NftModelSignature.Of(NftRuleset.Parse(text, "l.nft", opt))), string.Join('\n', NftModelSignature.Of(fromJson)));
        // without the names nft could not have printed them: the JSON loader says which file it needs
        var e = Assert.Throws<NftParseException>(() => NftRuleset.ParseJson(json, "l.json"));
        Assert.Contains("could not parse conntrack label \"five\"", e.Message);
    }

    private const string IptTemplate = Host + """

        nfct add timeout t inet tcp syn_sent 55 established 100
        iptables-restore <<'IPT'
        *raw
        :PREROUTING ACCEPT [0:0]
        -A PREROUTING -p tcp -m tcp --dport 21 -j CT --helper ftp --timeout t --zone 5
        -A PREROUTING -p tcp -m tcp --dport 21 -j CT --zone 9
        -A PREROUTING -p tcp -m tcp --dport 22 -j CT --notrack --zone 5
        -A PREROUTING -p tcp -m tcp --dport 23 -j CT --timeout t --zone-orig 7
        COMMIT
        IPT
        """;

    /// <summary>
    /// xt_CT builds one template from all its options (6.18, iptables-nft 1.8.9 accepted each rule and
    /// iptables-save printed them as here): zone, helper and timeout policy go to the new connection
    /// together; the first CT target wins whole (the second's zone 9 is ignored); with --notrack the rest
    /// is ignored (iptables-nft lists a plain notrack).
    /// </summary>
    [Fact]
    public void CtZoneHelperAndTimeoutMakeOneTemplate()
    {
        var engine = new DatapathEngine(LabLoader.Load(IptTemplate, "t.lab"));
        Send(engine, 21, 1);
        var ftp = Assert.Single(engine.States[0].Conntrack.Entries, e => e.Original.DestinationPort == 21);
        Assert.Equal(5, ftp.Zone);
        Assert.Same(ConntrackHelper.Ftp, ftp.Helper);
        Assert.Equal(55, ftp.SecondsLeft(1_000_000));
        Assert.Contains(" zone=5 ", ftp.ToString());
        Send(engine, 22, 2);
        Assert.DoesNotContain(engine.States[0].Conntrack.Entries, e => e.Original.DestinationPort == 22);
        Send(engine, 23, 3);
        var telnet = Assert.Single(engine.States[0].Conntrack.Entries, e => e.Original.DestinationPort == 23);
        Assert.Contains(" zone-orig=7 ", telnet.ToString());
        Assert.Null(telnet.Helper);
        Assert.NotNull(telnet.TimeoutPolicy);
    }

    /// <summary>
    /// --ctevents/--expevents choose what ctnetlink reports (6.18, iptables-nft 1.8.9 took both and
    /// conntrack -L showed the entry as without them): the connection is as without the rule, but the
    /// template is attached, so a later CT rule's zone is ignored; with --zone the zone applies.
    /// </summary>
    [Fact]
    public void CtEventsChangeNothingOnThePathButHoldTheTemplate()
    {
        var engine = new DatapathEngine(LabLoader.Load(Host + """

            iptables-restore <<'IPT'
            *raw
            :PREROUTING ACCEPT [0:0]
            -A PREROUTING -p tcp -m tcp --dport 24 -j CT --ctevents new,destroy --expevents new
            -A PREROUTING -p tcp -m tcp --dport 24 -j CT --zone 9
            -A PREROUTING -p tcp -m tcp --dport 25 -j CT --zone 5 --ctevents related,reply,assured,protoinfo,helper,mark,natseqinfo,secmark
            COMMIT
            IPT
            """, "t.lab"));
        Send(engine, 24, 1);
        var plain = Assert.Single(engine.States[0].Conntrack.Entries, e => e.Original.DestinationPort == 24);
        Assert.Equal(0, plain.Zone);
        Assert.DoesNotContain("zone", plain.ToString());
        Send(engine, 25, 2);
        Assert.Equal(5, Assert.Single(engine.States[0].Conntrack.Entries, e => e.Original.DestinationPort == 25).Zone);
    }

    [Theory]
    [InlineData("-A PREROUTING -p tcp -j CT --zone 5 --ctevents new,bogus", "Unknown event type \"bogus\"")]
    [InlineData("-A PREROUTING -p tcp -j CT --expevents destroy", "Unknown event type \"destroy\"")]
    [InlineData("-A PREROUTING -j CT --zone 5 --helper ftp", "You must specify a L4 protocol")]
    [InlineData("-A PREROUTING -p tcp -j CT --zone 65536", "out of range (0-65535)")]
    [InlineData("-A PREROUTING -p tcp -j CT --zone 5 --timeout nope", "No such timeout policy \"nope\"")]
    public void CtTemplateRefusals(string rule, string message)
    {
        var e = Assert.Throws<IptablesParseException>(() => IptablesRestore.Load($"*raw\n:PREROUTING ACCEPT [0:0]\n{rule}\nCOMMIT\n", "r.v4", false));
        Assert.Contains(message, e.Message);
    }
}
