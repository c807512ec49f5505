using PktFlow.Netfilter.Nftables;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// Base chains nft 1.0.6 and the 6.18 kernel refuse are refused on load, in the text and in JSON, with
/// nft's words. Every family x type x hook, with and without a device, was tried with `unshare -n nft -f`
/// on 6.18 (docs/nftables-rulesets.md, "Base chains"); these are the kinds of refusal it gave.
/// </summary>
public class NftChainTypeTests
{
    public static TheoryData<string, string, string, string?, string> Refused => new()
    {
        // nft's parser: the family has no such hook
        { "arp", "filter", "prerouting", null, "The arp family does not support this hook" },
        { "ip", "filter", "egress", "lo", "The ip family does not support this hook" },
        { "ip6", "filter", "ingress", "lo", "The ip6 family does not support this hook" },
        { "inet", "filter", "egress", "lo", "The inet family does not support this hook" },
        { "bridge", "filter", "ingress", null, "The bridge family does not support this hook" },
        { "netdev", "filter", "input", null, "The netdev family does not support this hook" },
        // a device only for netdev and inet ingress, and there it is needed
        { "ip", "filter", "input", "lo", "This chain type cannot be bound to device" },
        { "bridge", "filter", "forward", "lo", "This chain type cannot be bound to device" },
        { "netdev", "filter", "ingress", null, "Missing `device' in this chain definition" },
        { "netdev", "filter", "egress", null, "Missing `device' in this chain definition" },
        { "inet", "filter", "ingress", null, "Missing `device' in this chain definition" },
        // the kernel: no such type in the family (ENOENT)
        { "bridge", "nat", "prerouting", null, "Could not process rule: No such file or directory" },
        { "arp", "route", "output", null, "Could not process rule: No such file or directory" },
        { "netdev", "nat", "ingress", "lo", "Could not process rule: No such file or directory" },
        // the kernel: the type does not take the hook (EOPNOTSUPP)
        { "arp", "filter", "forward", null, "Could not process rule: Operation not supported" },
        { "ip", "nat", "forward", null, "Could not process rule: Operation not supported" },
        { "inet", "nat", "ingress", "lo", "Could not process rule: Operation not supported" },
        { "ip6", "route", "prerouting", null, "Could not process rule: Operation not supported" },
        { "inet", "route", "input", null, "Could not process rule: Operation not supported" },
    };

    public static TheoryData<string, string, string, string?> Accepted => new()
    {
        { "ip", "filter", "forward", null }, { "ip", "nat", "input", null }, { "ip", "route", "output", null },
        { "ip6", "nat", "postrouting", null }, { "inet", "filter", "ingress", "lo" }, { "inet", "route", "output", null },
        { "arp", "filter", "input", null }, { "arp", "filter", "output", null }, { "bridge", "filter", "postrouting", null },
        { "netdev", "filter", "ingress", "lo" }, { "netdev", "filter", "egress", "lo" },
    };

    private static string Text(string family, string type, string hook, string? dev) =>
        $"table {family} t {{\n chain c {{\n  type {type} hook {hook}{(dev is null ? "" : $" device \"{dev}\"")} priority 0;\n }}\n}}\n";

    private static string Json(string family, string type, string hook, string? dev) =>
        "{\"nftables\": [{\"table\": {\"family\": \"" + family + "\", \"name\": \"t\"}}, {\"chain\": {\"family\": \"" + family
        + "\", \"table\": \"t\", \"name\": \"c\", \"type\": \"" + type + "\", \"hook\": \"" + hook + "\", \"prio\": 0, \"policy\": \"accept\""
        + (dev is null ? "" : ", \"dev\": \"" + dev + "\"") + "}}]}";

    [Theory]
    [MemberData(nameof(Refused))]
    public void TextRefusesWithNftsWords(string family, string type, string hook, string? dev, string words)
    {
        var e = Assert.Throws<NftParseException>(() => NftRuleset.Parse(Text(family, type, hook, dev), "c.nft"));
        Assert.StartsWith(words, e.Reason);
        Assert.Equal(3, e.Line);
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void JsonRefusesWithNftsWords(string family, string type, string hook, string? dev, string words)
    {
        var e = Assert.Throws<NftParseException>(() => NftRuleset.ParseJson(Json(family, type, hook, dev), "c.json"));
        // nft -j omits dev from netdev chains: a netdev or ingress chain without one keeps the reader's own reason
        if (dev is null && (family == "netdev" || hook == "ingress") && words.StartsWith("Missing", StringComparison.Ordinal))
            Assert.Contains("has no 'dev'", e.Reason);
        else Assert.StartsWith(words, e.Reason);
        Assert.StartsWith("nftables[1].chain", e.JsonPath);
    }

    [Theory]
    [MemberData(nameof(Accepted))]
    public void WhatTheKernelTakesLoads(string family, string type, string hook, string? dev)
    {
        Assert.Single(NftRuleset.Parse(Text(family, type, hook, dev), "c.nft").Tables);
        Assert.Single(NftRuleset.ParseJson(Json(family, type, hook, dev), "c.json").Tables);
    }
}
