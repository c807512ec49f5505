using PktFlow.Netfilter.Nftables;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// Which words nft 1.0.6 takes as a table, chain, set, map or object name. Every text here was given to
/// nft 1.0.6 (`nft -c -f b.nft`); the refused ones carry its line, start column and wording
/// ("b.nft:4:8-14: Error: syntax error, unexpected counter, expecting string").
/// </summary>
public class NftIdentifierTests
{
    [Theory]
    [InlineData("table ip counter {\n}\n", 1, 10, "counter", "string")]
    [InlineData("add table inet fwd\n", 1, 16, "fwd", "string")]
    [InlineData("add table ip t\nadd chain ip t dup\n", 2, 16, "dup", "string")]
    [InlineData("table ip t {\n\tchain in {\n\t}\n\tchain counter {\n\t}\n}\n", 4, 8, "counter", "string")]
    [InlineData("table ip t {\n\tchain c {\n\t\tjump fwd\n\t}\n}\n", 3, 8, "fwd", "'{'")]
    [InlineData("table ip t {\n\tchain c {\n\t\tgoto \"in\"\n\t}\n}\n", 3, 8, "quoted string", "'{'")]
    [InlineData("table ip t {\n\tchain c {\n\t\tip saddr vmap { 1.2.3.4 : jump counter }\n\t}\n}\n", 3, 34, "counter", "string or '$'")]
    [InlineData("table ip t {\n\tset dup {\n\t\ttype ipv4_addr\n\t}\n}\n", 2, 6, "dup", "string")]
    [InlineData("table ip t {\n\tmap meta {\n\t\ttype ipv4_addr : mark\n\t}\n}\n", 2, 6, "meta", "string")]
    [InlineData("table ip t {\n\tset ll {\n\t\ttype ipv4_addr\n\t}\n\tchain c {\n\t\tip saddr @ll accept\n\t}\n}\n", 6, 13, "ll", "string")]
    [InlineData("table ip t {\n\tcounter fwd {\n\t}\n}\n", 2, 10, "fwd", "string")]
    [InlineData("table ip t {\n\tchain \"c\" {\n\t}\n}\n", 2, 8, "quoted string", "string")]
    [InlineData("add table ip t\nadd set ip t \"s\" { type ipv4_addr; }\n", 2, 14, "quoted string", "string")]
    [InlineData("add table ip t\nflush chain ip t log\n", 2, 18, "log", "string")]
    [InlineData("add table ip t\nadd rule ip t reject accept\n", 2, 15, "reject", "string")]
    public void AKeywordOrQuotedNameIsRefusedWhereNftRefusesIt(string text, int line, int col, string unexpected, string expecting)
    {
        var e = Assert.Throws<NftParseException>(() => NftRuleset.Parse(text, "b.nft"));
        Assert.Equal($"b.nft:{line}:{col}: syntax error, unexpected {unexpected}, expecting {expecting}", e.Message);
    }

    [Theory]
    // keywords the scanner only knows inside a statement (in, state, saddr, name, rate) are plain names
    [InlineData("table ip in {\n\tchain state {\n\t}\n\tchain c {\n\t\tjump state\n\t}\n}\n")]
    [InlineData("table ip t {\n\tchain saddr {\n\t}\n\tchain c {\n\t\tip saddr vmap { 1.2.3.4 : goto saddr }\n\t}\n}\n")]
    [InlineData("table ip t {\n\tset name {\n\t\ttype ipv4_addr\n\t}\n\tchain c {\n\t\tip saddr @name accept\n\t}\n}\n")]
    [InlineData("table ip t {\n\tset ll {\n\t\ttype ipv4_addr\n\t}\n\tcounter rate {\n\t}\n}\n")]
    [InlineData("add table ip t\nadd chain ip t in\nflush chain ip t in\nadd rule ip t in accept\n")]
    public void AScopedKeywordIsAName(string text)
    {
        Assert.NotNull(NftRuleset.Parse(text, "b.nft"));
    }

    [Fact]
    public void EveryWordOfTheListIsAKeywordAndOperatorsAreToo()
    {
        // the list holds 153 words measured with nft 1.0.6; spot-check both ends and the operator words
        foreach (var w in new[] { "accept", "xt", "vmap", "eq", "lshift", "ip6", "counter", "dup", "fwd" }) Assert.True(NftIdentifiers.IsReserved(w), w);
        foreach (var w in new[] { "in", "out", "state", "saddr", "name", "ll", "Counter", "filter", "nat" }) Assert.False(NftIdentifiers.IsReserved(w), w);
    }
}
