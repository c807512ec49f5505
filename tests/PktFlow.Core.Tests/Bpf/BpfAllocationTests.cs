using PktFlow.Bpf;
using PktFlow.Wire;
using RepoPaths = PktFlow.Testing.RepoPaths;
using FrameBuilder = PktFlow.Tests.Wire.FrameBuilder;

namespace PktFlow.Tests.Bpf;

/// <summary>
/// A program run allocates nothing per packet: hash map lookups and in-place updates compare the
/// program's key bytes without copying them (a key is copied only when inserted), and tail calls are
/// logged as data, worded only when a trace asks (<see cref="BpfVm.TailCallText"/>).
/// </summary>
public class BpfAllocationTests
{
    [Fact]
    public void ARunWithMapsAndTailCallsAllocatesNothingPerPacket()
    {
        // the tc-bpf-tailcall scenario's program: array and hash maps, 1 to 34 tail calls, LD_ABS/IND loads
        var obj = BpfObject.Load(Path.Combine(RepoPaths.Root, "tests", "scenarios", "tc-bpf-tailcall", "tc_tailcall.o"));
        var prog = obj.Program("tc");
        var rt = new BpfRuntime(prog, SkbContext.Helpers());
        var frames = new[]
        {
            Ip(6, FrameBuilder.Tcp("10.1.0.2", "10.1.0.1", 40002, 22, 2000, 0, TcpFlags.Syn)),
            Ip(6, FrameBuilder.Tcp("10.1.0.2", "10.1.0.1", 40001, 80, 1000, 0, TcpFlags.Syn)),
            Ip(17, FrameBuilder.Udp("10.1.0.2", "10.1.0.1", 40004, 7777, "keep this"u8)),
            Ip(17, FrameBuilder.Udp("10.1.0.2", "10.1.0.1", 40006, 9999, "chain"u8)),
            Ip(1, FrameBuilder.Icmp(8, 0, 0x0001_0001, new byte[8])),
        };
        var ports = rt.Maps.Single(m => m.Def.Name == "ports");

        ulong codes = 0;
        foreach (var f in frames) codes += Run(rt, prog, f); // warm up: the first run of each port inserts its key
        Assert.Equal(4, ports.Count);
        Assert.Equal("tail calls: jmp[17] -> tc_entry (x33); jmp[17]: MAX_TAIL_CALL_CNT (33) reached, fell through", RunText(rt, prog, frames[3]));

        // the least of three passes: a per-packet allocation shows in every pass, a one-off on this thread does not
        long allocated = long.MaxValue;
        for (int pass = 0; pass < 3 && allocated > 0; pass++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int round = 0; round < 500; round++)
                foreach (var f in frames) codes += Run(rt, prog, f);
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.True(codes > 0); // TCP 80 and the full chain are dropped (TC_ACT_SHOT = 2)
        Assert.Equal(4, ports.Count); // lookups and updates in place: no new key
        Assert.Equal(0, allocated);
    }

    private static byte[] Ip(byte protocol, byte[] l4) =>
        FrameBuilder.Ether(0x0800, FrameBuilder.Ipv4("10.1.0.2", "10.1.0.1", protocol, l4));

    private static ulong Run(BpfRuntime rt, BpfProgram prog, byte[] frame)
    {
        var ctx = rt.Skb;
        ctx.Load(frame);
        ctx.Protocol = 0x0800;
        ctx.Mark = 0;
        rt.Vm.Reset(rt.Maps);
        rt.Vm.Host = ctx;
        var r = rt.Vm.Run(prog, ctx.Attach(rt.Vm));
        if (!r.Ok) throw new InvalidOperationException(r.ToString());
        return r.R0;
    }

    private static string RunText(BpfRuntime rt, BpfProgram prog, byte[] frame)
    {
        Run(rt, prog, frame);
        return rt.Vm.TailCallText;
    }
}
