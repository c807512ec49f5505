using PktFlow.Tests.Socket;
using PktFlow.Topology.Lab;

namespace PktFlow.Tests.Topology;

/// <summary>
/// The shell a traffic script builds its frames with, as far as the reader evaluates it: shell
/// functions called with arguments, and arithmetic on literals and on a loop's variables
/// (iptables-ct-zone-mark's `send $ttl $((port / 1000 * 100 + ttl)) "UDP(...)"`), assignments and
/// arrays evaluated in script order, in loops too. Anything more is left as written and named in a warning.
/// </summary>
public class TrafficShellTests
{
    [Theory]
    [InlineData("8000 + h", 8003)]
    [InlineData("port / 1000 * 100 + ttl", 564)]
    [InlineData("(2 + 3) * -h % 4", -3)]
    [InlineData("0x12340 + h", 0x12343)]
    public void ArithmeticOnLiteralsAndKnownNamesIsEvaluated(string expression, long value) =>
        Assert.Equal(value, ShellArithmetic.Evaluate(expression, new Dictionary<string, string> { ["h"] = "3", ["port"] = "5000", ["ttl"] = "64" }));

    [Theory]
    [InlineData("n + 1")] // a name the reader does not know
    [InlineData("h += 1")]
    [InlineData("h++")]
    [InlineData("2 ** 3")]
    [InlineData("010 + 1")] // octal in bash
    [InlineData("1 / (h - 3)")]
    [InlineData("h < 4")]
    public void ArithmeticTheReaderDoesNotEvaluateIsLeftAsWritten(string expression)
    {
        var names = new Dictionary<string, string> { ["h"] = "3" };
        Assert.Null(ShellArithmetic.Evaluate(expression, names));
        Assert.Equal($"id=$(({expression}))", ShellArithmetic.Expand($"id=$(({expression}))", names));
    }

    [Fact]
    public void AnExpansionIsOneWord_AValueFromASubstitutionIsNotAVariable()
    {
        var cmds = ShellWords.Split("n=$((1 + 2))\necho id=$((7000 + 1)) $n\n").ToList();
        Assert.Equal(["n=$((1 + 2))"], cmds[0].Words);
        Assert.Equal(["echo", "id=$((7000 + 1))", "${n}"], cmds[1].Words);
    }

    private const string Traffic = """
        # a frame per call, its fields from the arguments
        send() {
            ip netns exec wan sendframe eth0 \
              "Ether()/IP(src='198.51.100.7', dst='198.51.100.1', ttl=$1, id=$2)/$3"
            sleep 0.2
        }
        for port in 5000 6000; do
            for ttl in 64 32; do
                send $ttl $((port / 1000 * 100 + ttl)) "UDP(sport=40000, dport=$port)"
            done
        done
        send 64 $((900 + 1)) "ICMP(type=8, id=77, seq=1)"
        """;

    [Fact]
    public void AFunctionsCallsBindItsArguments_ArithmeticOnTheLoopsVariablesIsEvaluated()
    {
        var topo = LabLoader.Load(ConnectingSocketTests.Lab, "lab.sh", Traffic, "traffic.sh");
        Assert.Equal(
        [
            "udp 198.51.100.7:40000 -> 198.51.100.1:5000 (traffic.sh:3: sendframe) id 564",
            "udp 198.51.100.7:40000 -> 198.51.100.1:5000 (traffic.sh:3: sendframe) id 532",
            "udp 198.51.100.7:40000 -> 198.51.100.1:6000 (traffic.sh:3: sendframe) id 664",
            "udp 198.51.100.7:40000 -> 198.51.100.1:6000 (traffic.sh:3: sendframe) id 632",
            "echo request id 77 seq 1 198.51.100.7 -> 198.51.100.1 (traffic.sh:3: sendframe) id 901",
        ], topo.Namespace("wan")!.RawFrames.Select(f => $"{f} id {f.IpId}"));
        Assert.DoesNotContain(topo.Warnings, w => w.StartsWith("traffic.sh", StringComparison.Ordinal));
    }

    [Fact]
    public void ArraysFilledInLoopsAndCountersAreEvaluatedInOrder()
    {
        // ecmp-multipath's frames array, nft-nat-addr-ranges' counter, nft-nat-port-maps' ${spec%%:*}
        const string traffic = """
            E="Ether()"
            frames=()
            n=0
            for h in $(seq 1 2); do
                n=$((n + 1))
                frames+=("$E/IP(src='198.51.100.7', dst='198.51.100.1', id=$((8000 + h)))/UDP(sport=$((40000 + n)), dport=53)")
            done
            for spec in 5000:41001 6000:41002; do
                frames+=("$E/IP(src='198.51.100.7', dst='198.51.100.1', id=$n)/UDP(sport=${spec##*:}, dport=${spec%%:*})")
            done
            ip netns exec wan sendframe eth0 "${frames[@]}"
            """;
        var topo = LabLoader.Load(ConnectingSocketTests.Lab, "lab.sh", traffic, "traffic.sh");
        Assert.Equal(
        [
            "udp 198.51.100.7:40001 -> 198.51.100.1:53 (traffic.sh:11: sendframe) id 8001",
            "udp 198.51.100.7:40002 -> 198.51.100.1:53 (traffic.sh:11: sendframe) id 8002",
            "udp 198.51.100.7:41001 -> 198.51.100.1:5000 (traffic.sh:11: sendframe) id 2",
            "udp 198.51.100.7:41002 -> 198.51.100.1:6000 (traffic.sh:11: sendframe) id 2",
        ], topo.Namespace("wan")!.RawFrames.Select(f => $"{f} id {f.IpId}"));
        Assert.DoesNotContain(topo.Warnings, w => w.StartsWith("traffic.sh", StringComparison.Ordinal));
    }

    [Fact]
    public void AnArrayElementWithANameNotKnownIsNamed_NotFilledInLater()
    {
        // $m is never set: after the loop, $h's last value must not stand in for anything of the element
        const string traffic = """
            frames=()
            for h in 1 2; do
                frames+=("Ether()/IP(src='198.51.100.7', dst='198.51.100.1', id=$((m + h)))/UDP(sport=1, dport=2)")
            done
            m=5
            ip netns exec wan sendframe eth0 "${frames[@]}"
            """;
        var topo = LabLoader.Load(ConnectingSocketTests.Lab, "lab.sh", traffic, "traffic.sh");
        Assert.Empty(topo.Namespace("wan")!.RawFrames);
        Assert.Equal(2, topo.Warnings.Count(w => w.StartsWith("traffic.sh:6: a sendframe frame with an expansion", StringComparison.Ordinal) && w.Contains("id=$((m + h))", StringComparison.Ordinal)));
    }

    [Fact]
    public void AFunctionsLocalsAndParameterExpansionsAreEvaluated()
    {
        const string traffic = """
            send() { # NS-HOST MAC
                local id=${1#h} last=${2: -1}
                ip netns exec wan sendframe eth0 "Ether(dst='$2')/IP(src='198.51.100.7', dst='198.51.100.1', id=$((id * 10 + last)))/UDP(sport=1, dport=2)"
            }
            send h12 02:00:00:00:02:07
            ip netns exec wan sendframe eth0 "Ether()/IP(src='198.51.100.7', dst='198.51.100.1', id=${id:-1})/UDP(sport=1, dport=2)"
            """;
        var topo = LabLoader.Load(ConnectingSocketTests.Lab, "lab.sh", traffic, "traffic.sh");
        Assert.Equal(["127"], topo.Namespace("wan")!.RawFrames.Select(f => $"{f.IpId}"));
        // the local is the call's own: after it, ${id...} is not known
        Assert.Contains(topo.Warnings, w => w.StartsWith("traffic.sh:6: a sendframe frame with an expansion", StringComparison.Ordinal));
    }

    [Fact]
    public void AFunctionThatOnlyEchoesIsReadThroughItsCommandSubstitution()
    {
        // bridge-stp's frame builders: "$(udp h1 $H1 $H2 1)"
        const string traffic = """
            H2="02:00:00:00:02:02"
            udp() { # FROM SRC-MAC DST-MAC ID
                local to=${3: -4:1}
                echo "Ether(src='$2', dst='$3')/IP(src='198.51.100.${1#h}', dst='198.51.100.$to', id=$4)/UDP(sport=1000, dport=9)"
            }
            ip netns exec wan sendframe eth0 "$(udp h7 02:00:00:00:01:02 $H2 1)" "$(udp h7 02:00:00:00:01:02 $H2 $UNSET)" "$(date)"
            """;
        var topo = LabLoader.Load(ConnectingSocketTests.Lab, "lab.sh", traffic, "traffic.sh");
        Assert.Equal(["udp 198.51.100.7:1000 -> 198.51.100.2:9 (traffic.sh:6: sendframe) id 1"], topo.Namespace("wan")!.RawFrames.Select(f => $"{f} id {f.IpId}"));
        // an argument the reader does not know, and any other command, stay named in a warning
        Assert.Equal(2, topo.Warnings.Count(w => w.StartsWith("traffic.sh:6: a sendframe frame with an expansion", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("count=1")]
    [InlineData("shift")]
    [InlineData("echo \"$@\"")]
    public void AFunctionDoingMoreWithItsParametersIsNotTakenForOne(string more)
    {
        var topo = LabLoader.Load(ConnectingSocketTests.Lab, "lab.sh", Traffic.Replace("    sleep 0.2", "    " + more, StringComparison.Ordinal), "traffic.sh");
        // its commands are read where they are written: the frame's $1 is named, not guessed
        Assert.Empty(topo.Namespace("wan")!.RawFrames);
        Assert.Contains(topo.Warnings, w => w.StartsWith("traffic.sh:3: a sendframe frame with an expansion", StringComparison.Ordinal));
    }
}
