using PktFlow.Bpf;

namespace PktFlow.Tests.Bpf;

/// <summary>
/// BPF_LD_ABS / BPF_LD_IND as the verifier rewrites them for tc (bpf_gen_ld_abs calling
/// bpf_skb_load_helper_8/16/32): big-endian reads from skb->data, SKF_NET_OFF / SKF_LL_OFF, and the
/// exit with r0 = 0 when the bytes are not there. Judged with LD_ABS/IND in tests/scenarios/tc-bpf-tailcall.
/// </summary>
public sealed class BpfLdAbsTests
{
    private const int B = 0x10, H = 0x08, W = 0x00;
    private static BpfInsn LdAbs(int size, int imm) => new((byte)(BpfOp.Abs | size), 0, 0, 0, imm);
    private static BpfInsn LdInd(int size, int src, int imm) => new((byte)(BpfOp.Ind | size), 0, (byte)src, 0, imm);

    // Ethernet (type 0x0800) + IPv4 header (protocol 17 at byte 23) + 8 bytes of UDP header, 42 bytes in all
    private static byte[] Frame()
    {
        var f = new byte[42];
        f[12] = 0x08;
        f[14] = 0x45;
        f[23] = 17;
        f[36] = 0x1e; f[37] = 0x61; // destination port 7777
        return f;
    }

    /// <summary>r6 = r1 (the context), then the loads, then exit with r0 (or r0 = 7 after them, to see whether the program went on).</summary>
    private static BpfRunResult Run(IEnumerable<BpfInsn> loads, bool xdp = false)
    {
        BpfInsn[] insns = [.. BpfAsm.Assemble("mov %r6, %r1"), .. loads, .. BpfAsm.Assemble("exit")];
        var prog = new BpfProgram("p", "tc", insns);
        var vm = new BpfVm(BpfHelperTable.Common());
        vm.Reset([]);
        ulong ctx;
        if (xdp)
        {
            var x = new XdpContext();
            x.Load(Frame(), 0);
            ctx = x.Attach(vm);
        }
        else
        {
            var s = new SkbContext();
            s.Load(Frame());
            vm.Host = s;
            ctx = s.Attach(vm);
        }
        return vm.Run(prog, ctx);
    }

    [Fact]
    public void AbsoluteLoadsReadBigEndianFromTheEthernetHeader()
    {
        Assert.Equal(0x0800UL, Run([LdAbs(H, 12)]).R0);
        Assert.Equal(17UL, Run([LdAbs(B, 23)]).R0);
        Assert.Equal(0x45000000UL, Run([LdAbs(W, 14)]).R0);
    }

    [Fact]
    public void IndirectLoadsAddTheSourceRegister()
    {
        // the UDP destination port: (ihl * 4) + 14 + 2 from a register, as clang emits load_half(skb, l4 + 2)
        Assert.Equal(7777UL, Run([.. BpfAsm.Assemble("mov %r7, 34"), LdInd(H, 7, 2)]).R0);
    }

    [Fact]
    public void NegativeOffsetsCountFromTheNetworkAndTheMacHeader()
    {
        Assert.Equal(17UL, Run([LdAbs(B, -0x100000 + 9)]).R0);   // SKF_NET_OFF + 9: the protocol
        Assert.Equal(0x0800UL, Run([LdAbs(H, -0x200000 + 12)]).R0); // SKF_LL_OFF + 12: the EtherType
    }

    [Fact]
    public void BytesPastThePacketEndTheProgramWithZero()
    {
        var r = Run([LdAbs(W, 40), .. BpfAsm.Assemble("mov %r0, 7")]);
        Assert.True(r.Ok);
        Assert.Equal(0UL, r.R0);
        Assert.Equal(0UL, Run([LdAbs(B, -0x300000), .. BpfAsm.Assemble("mov %r0, 7")]).R0); // below SKF_LL_OFF
        Assert.Equal(7UL, Run([LdAbs(W, 38), .. BpfAsm.Assemble("mov %r0, 7")]).R0);       // the last 4 bytes are there
    }

    [Fact]
    public void XdpProgramsHaveNoLegacyLoads()
    {
        var r = Run([LdAbs(B, 0)], xdp: true);
        Assert.Contains("the verifier allows them only in socket filter and tc programs", r.Error);
        Assert.Equal(1, r.ErrorInsn);
    }

    [Fact]
    public void R6MustBeTheContext()
    {
        var r = Run([.. BpfAsm.Assemble("mov %r6, 0"), LdAbs(B, 0)]);
        Assert.Contains("r6 is not the context", r.Error);
    }
}
