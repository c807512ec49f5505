using PktFlow.Testing;
using PktFlow.Tests.Socket;
using PktFlow.Topology.Lab;

namespace PktFlow.Tests.Topology;

/// <summary>
/// A traffic script's control flow as the reader runs it: conditions on known values decide `if`,
/// `&amp;&amp;`, `||`, `while` and `until`; `break N`, `continue N`, `return`, `exit` end what bash ends; a
/// condition not known when the script is read is named with its line. Command substitutions are
/// evaluated in the scope they run in (the fragment scenarios' `"$(frag 105 "" 1968 "$D" 2000)"`), and a
/// Python program's frame bound to a name in a loop is read once per pass (tcp-req-err's `srp1(syn)`).
/// </summary>
public class TrafficControlTests
{
    private static readonly Dictionary<string, string> Names = new() { ["n"] = "3" };

    [Theory]
    [InlineData("[ 3 -eq 3 ]", true)]
    [InlineData("[ 3 -lt 2 ]", false)]
    [InlineData("[ 10 -ge 9 ]", true)]
    [InlineData("[ 4 -ne 4 ]", false)]
    [InlineData("[ -n abc ]", true)]
    [InlineData("[ -z abc ]", false)]
    [InlineData("[ -z ]", true)] // `[ -z ]`: one operand, not empty
    [InlineData("[ abc ]", true)]
    [InlineData("[ a = a ]", true)]
    [InlineData("[ a != a ]", false)]
    [InlineData("[ ! a = b ]", true)]
    [InlineData("[ 1 -eq 1 -a 2 -eq 3 ]", false)]
    [InlineData("[ 1 -eq 1 -o 2 -eq 3 ]", true)]
    [InlineData("[ ( 1 -eq 2 -o 2 -eq 2 ) -a x = x ]", true)]
    [InlineData("test 5 -gt 4", true)]
    [InlineData("[ x -eq 1 ]", false)] // an integer expected: bash's status 2
    [InlineData("[[ n+1 -eq 4 ]]", true)] // [[ ]] evaluates arithmetic on known names
    [InlineData("[[ a == a && 2 -lt 3 ]]", true)]
    [InlineData("[[ a == b || ! 2 -lt 3 ]]", false)]
    public void AConditionOnKnownValuesIsAnsweredAsBashAnswersIt(string command, bool expected) =>
        Assert.Equal(expected, ShellTest.Evaluate(Words(command), Names));

    [Theory]
    [InlineData("[ -e /tmp/flag ]")]
    [InlineData("[[ -f /etc/hosts ]]")]
    [InlineData("[ ${unset} = 1 ]")]
    [InlineData("[ $(cat /sys/class/net/eth0/operstate) = up ]")]
    [InlineData("[[ abc == a* ]]")]
    [InlineData("[[ abc =~ ^a ]]")]
    [InlineData("[[ -e /tmp/x || 1 -eq 2 ]]")]
    public void AConditionOnWhatIsNotKnownWhenReadIsNull(string command) =>
        Assert.Null(ShellTest.Evaluate(Words(command), Names));

    [Fact]
    public void AnyTrueSideOfAnOrIsEnough_AnyFalseSideOfAnAnd() =>
        Assert.Equal((true, false), (ShellTest.Evaluate(Words("[[ -e /x || 1 -eq 1 ]]"), Names), ShellTest.Evaluate(Words("[ -e /x -a 1 -eq 2 ]"), Names)));

    private static List<string> Words(string command) =>
        ShellWords.Split(command).Single().Words.ToList();

    private static IEnumerable<ushort> Ports(string traffic, out IReadOnlyList<string> warnings)
    {
        var topo = LabLoader.Load(ConnectingSocketTests.Lab, "lab.sh", traffic, "traffic.sh");
        warnings = topo.Warnings.Where(w => w.StartsWith("traffic.sh", StringComparison.Ordinal)).ToList();
        return topo.Namespace("wan")!.ClientSockets.Select(c => c.LocalPort);
    }

    [Fact]
    public void IfElifElseTakesTheBranchItsConditionsChoose()
    {
        const string traffic = """
            mode=fast
            for i in 1 2 3 4 5 6; do
                if [ $i -eq 1 ]; then
                    p=41001
                elif [[ $mode == fast && $i -lt 3 ]]; then
                    p=41002
                elif [ "$i" = 4 -o $i -ge 6 ]; then p=$((41000 + i))
                else
                    continue
                fi
                ip netns exec wan socat -u TCP:198.51.100.1:80,sourceport=$p -
            done
            [ $mode = slow ] && ip netns exec wan socat -u TCP:198.51.100.1:80,sourceport=41010 -
            [ $mode = slow ] || ip netns exec wan socat -u TCP:198.51.100.1:80,sourceport=41011 -
            ! [ $mode = slow ] && ip netns exec wan socat -u TCP:198.51.100.1:80,sourceport=41012 -
            """;
        Assert.Equal([41001, 41002, 41004, 41006, 41011, 41012], Ports(traffic, out var warnings));
        Assert.Empty(warnings);
    }

    [Fact]
    public void WhileUntilBreakAndContinueEndWhatBashEnds()
    {
        const string traffic = """
            n=0
            while [ $n -lt 10 ]; do
                n=$((n + 1))
                [ $n -eq 2 ] && continue
                for j in 1 2 3; do
                    [ $j -eq 2 ] && break
                    [ $n -ge 4 ] && break 2
                    ip netns exec wan socat -u TCP:198.51.100.1:80,sourceport=$((42000 + n * 10 + j)) -
                done
            done
            k=3
            until [ $k -eq 0 ]; do ip netns exec wan socat -u TCP:198.51.100.1:80,sourceport=$((43000 + k)) -; k=$((k - 1)); done
            for a in 1 2; do for b in 1 2 3; do [ $b -eq 2 ] && continue 2; ip netns exec wan socat -u TCP:198.51.100.1:80,sourceport=$((43100 + a * 10 + b)) -; done; done
            """;
        Assert.Equal([42011, 42031, 43003, 43002, 43001, 43111, 43121], Ports(traffic, out var warnings));
        Assert.Empty(warnings);
    }

    [Fact]
    public void ALoopCountBelowOneLeavesEveryLoopWithStatusOne()
    {
        // bash 5.2: `break 0` / `continue 0` is "loop count out of range" (status 1) and ends all enclosing loops
        const string traffic = """
            for a in 1 2; do
                for b in 1 2; do
                    ip netns exec wan socat -u TCP:198.51.100.1:80,sourceport=$((45000 + a * 10 + b)) -
                    continue 0 || ip netns exec wan socat -u TCP:198.51.100.1:80,sourceport=45099 -
                done
            done
            for c in 1 2; do break 0; ip netns exec wan socat -u TCP:198.51.100.1:80,sourceport=45100 -; done
            """;
        Assert.Equal([45011], Ports(traffic, out var warnings));
        Assert.Empty(warnings);
    }

    [Fact]
    public void ReturnEndsTheFunction_ExitEndsTheScript()
    {
        const string traffic = """
            connect() {
                [ $1 -gt 44002 ] && return 1
                ip netns exec wan socat -u TCP:198.51.100.1:80,sourceport=$1 -
            }
            for p in 44001 44002 44003; do connect $p; done
            exit 0
            ip netns exec wan socat -u TCP:198.51.100.1:80,sourceport=44009 -
            """;
        Assert.Equal([44001, 44002], Ports(traffic, out var warnings));
        Assert.Empty(warnings);
    }

    [Fact]
    public void AConditionNotKnownWhenReadIsNamedOnceWithItsLine_AndTakenAsTrue()
    {
        const string traffic = """
            for i in $(seq 50); do [[ -e /tmp/flag ]] && break; sleep 0.1; done
            if [ "$(cat /sys/class/net/eth0/operstate)" = up ]; then p=45001; else p=45002; fi
            ip netns exec wan socat -u TCP:198.51.100.1:80,sourceport=$p -
            while [ "$(cat /tmp/state)" != up ]; do ip netns exec wan socat -u TCP:198.51.100.1:80,sourceport=45003 -; done
            """;
        Assert.Equal([45001, 45003], Ports(traffic, out var warnings));
        Assert.Equal(
        [
            "traffic.sh:1: a condition not known when the script is read (a command's output, a file, a name never set): taken as true",
            "traffic.sh:2: a condition not known when the script is read (a command's output, a file, a name never set): taken as true",
            "traffic.sh:4: a condition not known when the script is read (a command's output, a file, a name never set): its body is read once",
        ], warnings.Select(w => w[..w.LastIndexOf(": ", StringComparison.Ordinal)]));
    }

    [Fact]
    public void AWhileThatNeverEndsIsReadNoFurtherThanItsBound()
    {
        var ports = Ports("while true; do sleep 1; done\nip netns exec wan socat -u TCP:198.51.100.1:80,sourceport=45101 -\n", out var warnings);
        Assert.Equal([45101], ports);
        Assert.Contains(warnings, w => w.StartsWith($"traffic.sh:1: 'while' has not ended after {LabLoader.MaxPasses} passes", StringComparison.Ordinal));
    }

    [Fact]
    public void ACommandSubstitutionIsEvaluatedInItsScope_QuotesAndEmptyArgumentsKept()
    {
        // the fragment scenarios: a frame builder's output in a variable, passed quoted to another, "" as an argument
        const string traffic = """
            E="Ether()"
            udp() { echo "IP(src='198.51.100.7', dst='198.51.100.1', id=$1)/UDP(sport=$2, dport=9)"; }
            frame() { if [ -z "$2" ]; then echo "$E/$1"; else echo "$E/$1/Raw(b'$2')"; fi; }
            D=$(udp 7 45201)
            ip netns exec wan sendframe eth0 "$(frame "$D" "")" "$(frame "$(udp 8 45202)" x)"
            quit() { echo 45203 45204; exit 1; }
            for p in $(quit); do ip netns exec wan socat -u TCP:198.51.100.1:80,sourceport=$p -; done
            ip netns exec wan sendframe eth0 "$(frame "$D" "")" "$(cat /tmp/frame)"
            """;
        var topo = LabLoader.Load(ConnectingSocketTests.Lab, "lab.sh", traffic, "traffic.sh");
        Assert.Equal(
        [
            "udp 198.51.100.7:45201 -> 198.51.100.1:9 (traffic.sh:5: sendframe) id 7",
            "udp 198.51.100.7:45202 -> 198.51.100.1:9 (traffic.sh:5: sendframe) id 8",
            "udp 198.51.100.7:45201 -> 198.51.100.1:9 (traffic.sh:8: sendframe) id 7",
        ], topo.Namespace("wan")!.RawFrames.Select(f => $"{f} id {f.IpId}"));
        // an unquoted substitution's output is split into words: two sockets; its `exit` ends only its subshell
        Assert.Equal([45203, 45204], topo.Namespace("wan")!.ClientSockets.Select(c => c.LocalPort));
        // a program whose output is not known ($(cat ...)) stays named
        Assert.Equal(["traffic.sh:8: a sendframe frame with an expansion the lab reader does not evaluate ($(cat /tmp/frame))"],
            topo.Warnings.Where(w => w.StartsWith("traffic.sh", StringComparison.Ordinal)).Select(w => w[..w.IndexOf("): ", StringComparison.Ordinal)] + ")"));
    }

    [Fact]
    public void APythonFrameBoundToANameIsReadOncePerPassOfItsLoops()
    {
        const string traffic = """
            ip netns exec wan python3 - <<'PY'
            from scapy.all import *
            SRC, DPORT = "198.51.100.7", 80
            for sport, seq in ((46001, 5), (46002, 6)):
                syn = Ether()/IP(src=SRC, dst="198.51.100.1", id=sport)/TCP(sport=sport, dport=DPORT, seq=seq)
                sa = srp1(syn, iface="eth0", timeout=1)
            for i in range(2):
                sendp(Ether()/IP(src=SRC, dst="198.51.100.1")/UDP(sport=i, dport=DPORT), iface="eth0")
            def later(port):
                pkt = Ether()/IP(src=SRC, dst="198.51.100.1")/TCP(sport=port)
                sendp(pkt, iface="eth0")
            PY
            """;
        var topo = LabLoader.Load(ConnectingSocketTests.Lab, "lab.sh", traffic, "traffic.sh");
        Assert.Equal(
        [
            "tcp 198.51.100.7:46001 -> 198.51.100.1:80 (traffic.sh:6: srp1) seq 5",
            "tcp 198.51.100.7:46002 -> 198.51.100.1:80 (traffic.sh:6: srp1) seq 6",
            "udp 198.51.100.7:0 -> 198.51.100.1:80 (traffic.sh:8: sendp) seq 0",
            "udp 198.51.100.7:1 -> 198.51.100.1:80 (traffic.sh:8: sendp) seq 0",
        ], topo.Namespace("wan")!.RawFrames.Select(f => $"{f} seq {f.Seq}"));
        // a function's parameter is not known: named, not guessed
        Assert.Equal(["traffic.sh:11: a sendp frame that is not a scapy expression written out (pkt)"],
            topo.Warnings.Where(w => w.StartsWith("traffic.sh", StringComparison.Ordinal)).Select(w => w[..w.IndexOf("): ", StringComparison.Ordinal)] + ")"));
    }

    [Fact]
    public void TheRecordedScenariosTrafficScriptsWarnOnlyOfWhatCannotBeKnownWhenRead()
    {
        // what a recorded run waited for or checked on the machine (a port's STP state, a file the FTP
        // client writes): every other construct of every traffic script is read
        var scenarios = Path.Combine(RepoPaths.Root, "tests", "scenarios");
        var warnings = Directory.GetDirectories(scenarios).Order(StringComparer.Ordinal)
            .Where(d => File.Exists(Path.Combine(d, "traffic.sh")) && File.Exists(Path.Combine(d, "lab.sh")))
            .SelectMany(d => LabLoader.LoadFile(Path.Combine(d, "lab.sh"), Path.Combine(d, "traffic.sh")).Warnings
                .Where(w => w.Contains("traffic.sh:", StringComparison.Ordinal))
                .Select(w => $"{Path.GetFileName(d)}:{w[(w.IndexOf("traffic.sh:", StringComparison.Ordinal) + 11)..]}"))
            .Select(w => w[..w.IndexOf(": ", StringComparison.Ordinal)] + (w.Contains(": a condition not known", StringComparison.Ordinal) ? " condition" : " other: " + w))
            .ToList();
        Assert.Equal(
        [
            "bridge-stp:20 condition", // [[ $(cat /sys/class/net/port1/brport/state) == 1 ]] || exit 1
            "bridge-stp:8 condition", // waitstate: [[ $(cat .../brport/state) == "$2" ]] && return 0
            "ct-helper-ftp:57 condition", // [[ -e $D/$f ]] && break
            "ct-helper-natftp:56 condition",
            "ct-helper-natftp6:54 condition",
        ], warnings);
    }

    [Fact]
    public void TheRecordedSynsOfTcpReqErrAndTheWholeDatagramsOfIpFragmentForwardAreRawFrames()
    {
        static List<string> Frames(string name)
        {
            var dir = Path.Combine(RepoPaths.Root, "tests", "scenarios", name);
            return LabLoader.LoadFile(Path.Combine(dir, "lab.sh"), Path.Combine(dir, "traffic.sh")).Namespace("client")!.RawFrames
                .Select(f => $"{f.Protocol} {f.SourceAddress}:{f.SourcePort} -> {f.DestinationAddress}:{f.DestinationPort} id {f.IpId} seq {f.Seq}").ToList();
        }
        // srp1(syn) in a loop over three literal tuples
        Assert.Equal(
        [
            "6 10.1.0.9:40001 -> 10.1.0.1:80 id 40001 seq 1000",
            "6 10.1.0.8:40002 -> 10.1.0.1:80 id 40002 seq 1000",
            "6 10.1.0.8:40003 -> 10.1.0.1:80 id 40003 seq 1000",
        ], Frames("tcp-req-err"));
        // the $(frag ...) fragments are read (IP/Raw: no socket's, LearnSender passes fragments over); the whole datagrams are UDP frames
        Assert.Equal(
        [
            "17 10.1.0.2:40001 -> 10.2.0.2:9 id 101 seq 0",
            "17 10.1.0.2:40002 -> 10.2.0.2:9 id 102 seq 0",
            "17 10.1.0.2:40003 -> 10.2.0.2:9 id 103 seq 0",
            "17 10.1.0.2:40004 -> 10.2.0.2:9 id 104 seq 0",
        ], Frames("ip-fragment-forward"));
    }
}
