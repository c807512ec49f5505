using PktFlow.Bpf;

namespace PktFlow.Tests.Bpf;

public sealed class BpfVmTests
{
    private static BpfRunResult Run(string asm, byte[]? mem = null, BpfHelperTable? helpers = null)
    {
        var prog = new BpfProgram("t", "test", BpfAsm.Assemble(asm));
        var vm = new BpfVm(helpers ?? BpfHelperTable.Common());
        vm.Reset([]);
        ulong r1 = mem is null ? 0 : vm.Memory.Add(mem, 0, mem.Length, true, "memory");
        return vm.Run(prog, r1, (ulong)(mem?.Length ?? 0));
    }

    [Fact]
    public void ReadPastTheEndOfMemoryIsAnErrorNamingTheInstruction()
    {
        var r = Run("mov %r0, 0\nldxw %r0, [%r1+2]\nexit", new byte[4]);
        Assert.False(r.Ok);
        Assert.Equal(1, r.ErrorInsn);
        Assert.Contains("read of 4 bytes at offset 2 of memory (4 bytes)", r.Error);
    }

    [Fact]
    public void StackBelowTheFrameAndNullFault()
    {
        Assert.Equal(0, Run("stb [%r10-4097], 1\nexit").ErrorInsn);
        Assert.Contains("not a pointer", Run("mov %r2, 0\nldxb %r0, [%r2]\nexit").Error);
        Assert.True(Run("stdw [%r10-512], 7\nldxdw %r0, [%r10-512]\nexit").Ok);
    }

    [Fact]
    public void UnknownHelperIsUnsupported()
    {
        var r = Run("call 200\nexit");
        Assert.Equal("unsupported: bpf helper 200", r.Error);
        Assert.Equal(0, r.ErrorInsn);
    }

    [Fact]
    public void EndlessLoopIsStoppedByTheBudget()
    {
        var r = Run("L:\nja L\nexit");
        Assert.False(r.Ok);
        Assert.Contains("instructions executed", r.Error);
    }

    [Fact]
    public void RecursionDeeperThanEightFramesIsAnError()
    {
        var r = Run("f:\ncall local f\nexit");
        Assert.Contains("call depth", r.Error);
    }

    [Fact]
    public void EachFrameHasItsOwnStack()
    {
        // the callee writes at its r10-8; the caller's slot at its own r10-8 keeps its value
        var r = Run("stdw [%r10-8], 5\ncall local f\nldxdw %r0, [%r10-8]\nexit\nf:\nstdw [%r10-8], 9\nexit");
        Assert.Equal(5UL, r.R0);
    }

    [Theory]
    [InlineData("jmp out of range", "ja +5\nexit")]
    [InlineData("r10 write", "mov %r10, 1\nexit")]
    public void StructuralErrorsAreRefusedAtLoad(string what, string asm)
    {
        Assert.Throws<BpfLoadException>(() => new BpfProgram(what, "t", BpfAsm.Assemble(asm)));
    }

    [Fact]
    public void JumpIntoTheSecondHalfOfLddwIsRefused()
    {
        var e = Assert.Throws<BpfLoadException>(() => new BpfProgram("t", "t", BpfAsm.Assemble("ja +1\nlddw %r0, 1\nexit")));
        Assert.Contains("instruction 0", e.Message);
    }

    [Fact]
    public void TracePrintkLeavesANote()
    {
        var prog = new BpfProgram("t", "t", BpfAsm.Assemble(
            "lddw %r1, 0x0064252078\nstxdw [%r10-8], %r1\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 42\ncall 6\nexit"));
        var vm = new BpfVm(BpfHelperTable.Common());
        vm.Reset([]);
        var r = vm.Run(prog);
        Assert.True(r.Ok, r.ToString());
        Assert.Equal("x 42", vm.Notes[0]);
    }

    [Fact]
    public void MapHelpersKeepValuesAcrossRuns()
    {
        var def = new BpfMapDef("counts", BpfMapType.Hash, 4, 8, 16);
        // key 7 on the stack; value pointer in r0; when absent insert 1, else add 1 in place
        var prog = new BpfProgram("t", "t", BpfAsm.Assemble(
            "stw [%r10-4], 7\nlddw %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, insert\nmov %r6, 1\nlock add [%r0+0], %r6\nmov %r0, 2\nexit\n" +
            "insert:\nstdw [%r10-16], 1\nlddw %r1, 0\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\ncall 2\nmov %r0, 1\nexit")
            .Select(x => x.Opcode == BpfOp.LdDw ? x with { Src = BpfOp.PseudoMapFd } : x).ToArray(), [def]);
        var state = new BpfMapState(def);
        var vm = new BpfVm(BpfHelperTable.Common());
        ulong[] r0 = new ulong[3];
        for (int i = 0; i < 3; i++) { vm.Reset([state]); var r = vm.Run(prog); Assert.True(r.Ok, r.ToString()); r0[i] = r.R0; }
        Assert.Equal([1UL, 2UL, 2UL], r0);
        var (_, value) = Assert.Single(state.Entries());
        Assert.Equal(3UL, BitConverter.ToUInt64(value));
    }
}
