namespace PktFlow.Bpf;

/// <summary>How one bpf_tail_call ended (the interpreter's JMP_TAIL_CALL checks, in its order).</summary>
public enum BpfTailCallOutcome
{
    /// <summary>The slot's program runs from its start.</summary>
    Taken,
    /// <summary>index >= max_entries: fell through, not counted.</summary>
    BeyondMaxEntries,
    /// <summary>tail_call_cnt reached MAX_TAIL_CALL_CNT: fell through.</summary>
    CountReached,
    /// <summary>No program in the slot: fell through (counted).</summary>
    EmptySlot,
}

/// <summary>
/// One tail call of a run, as data: the program array, the index, how it ended, the program it went
/// to, and how many times in a row the same call was made. <see cref="What"/> words it on demand,
/// so a run that nobody traces formats nothing.
/// </summary>
public readonly record struct BpfTailCall(BpfMapState Map, uint Index, BpfTailCallOutcome Outcome, BpfProgram? Next, int Times = 1)
{
    /// <summary>"jmp[6] -> tc_entry", "jmp[1]: empty slot, fell through".</summary>
    public string What => Outcome switch
    {
        BpfTailCallOutcome.Taken => $"{Map.Def.Name}[{Index}] -> {Next!.Name}",
        BpfTailCallOutcome.BeyondMaxEntries => $"{Map.Def.Name}[{Index}]: beyond max_entries, fell through",
        BpfTailCallOutcome.CountReached => $"{Map.Def.Name}[{Index}]: MAX_TAIL_CALL_CNT ({BpfVm.MaxTailCallCnt}) reached, fell through",
        _ => $"{Map.Def.Name}[{Index}]: empty slot, fell through",
    };

    /// <summary>The same call again (the count aside).</summary>
    internal bool SameAs(BpfTailCall o) => ReferenceEquals(Map, o.Map) && Index == o.Index && Outcome == o.Outcome && ReferenceEquals(Next, o.Next);
}
