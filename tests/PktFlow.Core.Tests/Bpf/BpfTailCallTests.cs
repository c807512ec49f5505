using PktFlow.Bpf;

namespace PktFlow.Tests.Bpf;

/// <summary>
/// bpf_tail_call (helper 12) and program arrays: how libbpf fills them from `.values` and iproute2
/// loads them (judged on the kernel in tests/scenarios/tc-bpf-tailcall), and the interpreter's
/// JMP_TAIL_CALL rules (index, MAX_TAIL_CALL_CNT, empty slots).
/// </summary>
public sealed class BpfTailCallTests
{
    private static BpfInsn LdMap(int reg, int map) => new(BpfOp.LdDw, (byte)reg, BpfOp.PseudoMapFd, 0, map);
    private static readonly BpfInsn LdDwHigh = new(0, 0, 0, 0, 0);

    private static BpfInsn[] Asm(string text) => BpfAsm.Assemble(text);

    /// <summary>One program with a program array jmp (slot 0 holding the program itself when self is set) and the given body.</summary>
    private static (BpfProgram Prog, BpfMapState[] Maps) Program(IEnumerable<BpfInsn> body, int maxEntries = 4, bool self = true)
    {
        var jmp = new BpfMapDef("jmp", BpfMapType.ProgArray, 4, 4, maxEntries) { Pinned = true, ProgramSlots = self ? new Dictionary<int, string> { [0] = "p" } : null };
        var prog = new BpfProgram("p", "tc", body.ToArray(), [jmp]);
        var rt = new BpfRuntime(prog, BpfHelperTable.Common());
        return (prog, rt.Maps);
    }

    private static (BpfRunResult Result, BpfVm Vm) Run(BpfProgram prog, BpfMapState[] maps)
    {
        var vm = new BpfVm(BpfHelperTable.Common());
        vm.Reset(maps);
        return (vm.Run(prog), vm);
    }

    /// <summary>r9 += 1; bpf_tail_call(ctx, jmp, index); r0 = r9 (the interpreter keeps every register across a tail call).</summary>
    private static IEnumerable<BpfInsn> CountAndCall(int index) =>
        [.. Asm("add %r9, 1"), LdMap(2, 0), LdDwHigh, .. Asm($"mov %r3, {index}\ncall 12\nmov %r0, %r9\nexit")];

    [Fact]
    public void ASlotHoldingTheProgramItselfRunsItAgainUntilMaxTailCallCnt()
    {
        var (prog, maps) = Program(CountAndCall(0));
        var (r, vm) = Run(prog, maps);
        Assert.True(r.Ok, r.ToString());
        Assert.Equal(34UL, r.R0); // the first run and 33 tail calls: the 34th call falls through
        Assert.Equal(BpfVm.MaxTailCallCnt, vm.TailCalls);
        Assert.Equal("tail calls: jmp[0] -> p (x33); jmp[0]: MAX_TAIL_CALL_CNT (33) reached, fell through", vm.TailCallText);
        // the next run starts counting again
        Assert.Equal(34UL, Run(prog, maps).Result.R0);
    }

    /// <summary>
    /// A miss falls through to the next instruction. JMP_TAIL_CALL checks the index first (no count),
    /// then raises tail_call_cnt before it reads the slot, so an empty slot counts (the x86 JIT too).
    /// </summary>
    [Theory]
    [InlineData(4, 0, "tail calls: jmp[4]: beyond max_entries, fell through")]
    [InlineData(1, 1, "tail calls: jmp[1]: empty slot, fell through")]
    public void AMissFallsThrough(int index, int counted, string text)
    {
        var (prog, maps) = Program(CountAndCall(index));
        var (r, vm) = Run(prog, maps);
        Assert.Equal(1UL, r.R0);
        Assert.Equal(counted, vm.TailCalls);
        Assert.Equal(text, vm.TailCallText);
    }

    [Fact]
    public void AnUnpinnedArrayIsEmptiedWhenTheLoaderExits()
    {
        // map_release_uref -> bpf_fd_array_map_clear: the slot libbpf filled is gone before any packet
        var jmp = new BpfMapDef("jmp", BpfMapType.ProgArray, 4, 4, 4) { ProgramSlots = new Dictionary<int, string> { [0] = "p" } };
        var prog = new BpfProgram("p", "tc", CountAndCall(0).ToArray(), [jmp]);
        var rt = new BpfRuntime(prog, BpfHelperTable.Common());
        Assert.Null(rt.Maps[0].ProgramAt(0));
        Assert.Equal(1UL, Run(prog, rt.Maps).Result.R0);
    }

    [Fact]
    public void ATailCallFromASubprogramIsUnsupported()
    {
        var (prog, maps) = Program([.. Asm("call local f\nexit\nf:"), LdMap(2, 0), LdDwHigh, .. Asm("mov %r3, 0\ncall 12\nexit")]);
        var (r, _) = Run(prog, maps);
        Assert.Equal("unsupported: bpf_tail_call from a subprogram", r.Error);
    }

    [Fact]
    public void AProgramArrayIsOnlyForTailCalls()
    {
        // r2 must be a program array; map_lookup_elem on one is refused (the verifier's check_map_func_compatibility)
        var hash = new BpfMapDef("h", BpfMapType.Hash, 4, 4, 4);
        var prog = new BpfProgram("p", "tc", [LdMap(2, 0), LdDwHigh, .. Asm("mov %r3, 0\ncall 12\nexit")], [hash]);
        var vm = new BpfVm(BpfHelperTable.Common());
        vm.Reset([new BpfMapState(hash)]);
        Assert.Contains("bpf_tail_call: r2 0x", vm.Run(prog).Error);
        var (lookup, maps) = Program([.. Asm("stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4"), LdMap(1, 0), LdDwHigh, .. Asm("call 1\nexit")]);
        Assert.Contains("jmp is a program array: only bpf_tail_call may use it", Run(lookup, maps).Result.Error);
    }

    [Fact]
    public void LibbpfValuesFillTheSlotsAndIproute2LoadsOnlyTheAttachedProgram()
    {
        var obj = BpfObject.Load(BpfObjectTests.Obj("tail_progarray.o"));
        var jmp = obj.Maps.Single(m => m.Name == "jmp");
        Assert.Equal(BpfMapType.ProgArray, jmp.Type);
        Assert.True(jmp.Pinned);
        Assert.Equal(new Dictionary<int, string> { [0] = "tc_b" }, jmp.ProgramSlots);
        // tc/a would leave slot 0 naming a program nobody loaded: libbpf fails the load
        var e = Assert.Throws<BpfLoadException>(() => obj.Program("tc/a"));
        Assert.Contains("map jmp: slot [0] names program tc_b, which is not loaded: iproute2 loads only the program it attaches (tc_a)", e.Message);
        // tc/b fills the slot with itself: 34 runs counted in runs[0], then slot 5 is past max_entries
        var prog = obj.Program("tc/b");
        var rt = new BpfRuntime(prog, SkbContext.Helpers());
        rt.Skb.Load(new byte[60]);
        rt.Vm.Reset(rt.Maps);
        rt.Vm.Host = rt.Skb;
        var r = rt.Vm.Run(prog, rt.Skb.Attach(rt.Vm));
        Assert.True(r.Ok, r.ToString());
        Assert.Equal(34UL, r.R0);
        Assert.Equal(34u, BitConverter.ToUInt32(rt.Maps.Single(m => m.Def.Name == "runs").Lookup(new byte[4])));
        Assert.EndsWith("jmp[0]: MAX_TAIL_CALL_CNT (33) reached, fell through; jmp[5]: beyond max_entries, fell through", rt.Vm.TailCallText);
    }

    [Fact]
    public void ALegacyProgramArrayIsUnsupported()
    {
        var e = Assert.Throws<BpfLoadException>(() => BpfObject.Load(BpfObjectTests.Obj("legacy_progarray.o")));
        Assert.Contains("maps: jmp: unsupported: a legacy program array", e.Message);
    }
}
