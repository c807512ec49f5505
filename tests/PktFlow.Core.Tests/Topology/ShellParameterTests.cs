using PktFlow.Topology.Lab;

namespace PktFlow.Tests.Topology;

/// <summary>
/// The bash parameter expansions the traffic reader evaluates (nft-nat-port-maps' `${spec%%:*}`,
/// bridge-stp's `${1#h}` and `${3: -4:1}`), checked against what bash prints for the same word.
/// </summary>
public class ShellParameterTests
{
    private static readonly Dictionary<string, string> Names = new()
    {
        ["spec"] = "3000:40001:x", ["mac"] = "02:00:00:00:02:02", ["1"] = "h12", ["f"] = "a/b/c.tar.gz",
    };

    [Theory]
    [InlineData("${spec}", "3000:40001:x")]
    [InlineData("${spec%%:*}", "3000")]
    [InlineData("${spec%:*}", "3000:40001")]
    [InlineData("${spec##*:}", "x")]
    [InlineData("${spec#*:}", "40001:x")]
    [InlineData("${1#h}", "12")]
    [InlineData("${1#x}", "h12")] // no match: the value unchanged
    [InlineData("${f##*/}", "c.tar.gz")]
    [InlineData("${f%%.*}", "a/b/c")]
    [InlineData("${f%.*}", "a/b/c.tar")]
    [InlineData("${f#a/*/}", "c.tar.gz")]
    [InlineData("${mac: -4:1}", "2")]
    [InlineData("${mac:(-2)}", "02")]
    [InlineData("${mac:3:2}", "00")]
    [InlineData("${mac:15}", "02")]
    [InlineData("${mac:2:-3}", ":00:00:00:02")]
    [InlineData("${mac: -40}", "")]
    [InlineData("id=${1#h}, mac=${mac:0:2}", "id=12, mac=02")]
    public void TheExpansionIsBashs(string word, string value) => Assert.Equal(value, ShellParameter.Expand(word, Names));

    [Theory]
    [InlineData("${unknown#x}")] // a name the reader does not know
    [InlineData("${spec/:/-}")] // substitution
    [InlineData("${spec:-x}")] // default value
    [InlineData("${spec#?0}")] // ? is not read
    [InlineData("${spec%[0-9]}")] // nor brackets
    [InlineData("${#spec}")] // length
    [InlineData("${mac:8:-12}")] // a length ending before the offset: an error in bash
    public void AnythingElseIsLeftAsWritten(string word) => Assert.Equal(word, ShellParameter.Expand(word, Names));

    [Theory]
    [InlineData("$(seq 3)", "1 2 3")]
    [InlineData("$(seq 2 4)", "2 3 4")]
    [InlineData("$(seq 10 -5 1)", "10 5")]
    [InlineData("$(seq 4 2)", "")]
    public void SeqOfLiteralsIsItsNumbers(string word, string numbers) =>
        Assert.Equal(numbers, string.Join(' ', LabLoader.Seq(word)!));

    [Theory]
    [InlineData("$(seq 1 $n)")]
    [InlineData("$(seq -w 1 3)")]
    [InlineData("$(seq 1 0 3)")]
    [InlineData("$(ls)")]
    public void SeqOfAnythingElseIsNotRead(string word) => Assert.Null(LabLoader.Seq(word));
}
