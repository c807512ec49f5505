using PktFlow.Netfilter.Nftables;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// nft's grammar ends each line of a block with a newline or ';' (stmt_separator). Every text here
/// was given to nft 1.0.6 (`nft -c -f FILE`); the refused ones carry its line, column and wording
/// ("b.nft:4:23-23: Error: syntax error, unexpected '}', expecting newline or semicolon").
/// </summary>
public class NftSeparatorTests
{
    [Theory]
    // a rule closed by the chain's brace on its line
    [InlineData("table inet t {\n\tchain c {\n\t\ttype filter hook input priority 0; policy accept;\n\t\ttcp dport 22 accept } }\n", 4, 23, "'}'")]
    [InlineData("table inet t {\n\tchain c {\n\t\ttype filter hook input priority 0; policy accept;\n\t\ttcp dport 22 accept }\n}\n", 4, 23, "'}'")]
    [InlineData("table inet t { chain c {\n accept }\n}\n", 2, 9, "'}'")]
    // a chain's policy, and its hook line followed by the policy
    [InlineData("table inet t { chain c { type filter hook input priority 0; policy accept }\n}\n", 1, 75, "'}'")]
    [InlineData("table inet t { chain c { type filter hook input priority 0 policy accept;\n}\n}\n", 1, 60, "policy")]
    // a chain, set or object block closed by the table's brace, or followed by the next block, on its line
    [InlineData("table inet t { chain c { type filter hook input priority 0; policy accept; tcp dport 22 accept; } }\n", 1, 99, "'}'")]
    [InlineData("table inet t { chain c { } }\n", 1, 28, "'}'")]
    [InlineData("table inet t { chain c { } chain d { }\n}\n", 1, 28, "chain")]
    [InlineData("table inet t { set s { type ipv4_addr; elements = { 1.1.1.1 } } }\n", 1, 65, "'}'")]
    [InlineData("table inet t { counter x { packets 0 bytes 0 } }\n", 1, 48, "'}'")]
    [InlineData("table inet t { flags dormant }\n", 1, 30, "'}'")]
    public void ALineWithoutNewlineOrSemicolonIsRefused(string text, int line, int col, string unexpected)
    {
        var e = Assert.Throws<NftParseException>(() => NftRuleset.Parse(text, "b.nft"));
        Assert.Equal($"b.nft:{line}:{col}: syntax error, unexpected {unexpected}, expecting newline or semicolon", e.Message);
    }

    [Theory]
    // `elements = { ... }` needs no separator before the set's brace (set_block ELEMENTS '=' set_block_expr)
    [InlineData("table inet t {\n\tset s {\n\t\ttype ipv4_addr\n\t\telements = { 10.0.0.1, 10.0.0.2 } }\n}\n")]
    [InlineData("table inet t { map m { type ipv4_addr : verdict; elements = { 1.1.1.1 : accept } }\n}\n")]
    [InlineData("table inet t { set s { type ipv4_addr; elements = { 1.1.1.1 } }; }\n")]
    [InlineData("table inet t { chain c { type filter hook input priority 0; }; }\n")]
    [InlineData("table inet t { chain c { type filter hook input priority 0\n}\n}\n")]
    [InlineData("table inet t { chain c { type filter hook input priority 0; policy accept; tcp dport 22 accept;}\n}\n")]
    [InlineData("table inet t { chain c { tcp dport { 22, 23 } accept\n}\n}\n")]
    public void WhatNftAcceptsLoads(string text) => Assert.Single(NftRuleset.Parse(text, "a.nft").Tables);
}
