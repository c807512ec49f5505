using PktFlow.Capture;
using PktFlow.Datapath;

namespace PktFlow.Replay;

/// <summary>What a replay produces, in order: one trace or one problem per input packet, plus information and progress.</summary>
public abstract record ReplayEvent;

public sealed record TraceEvent(PacketTrace Trace) : ReplayEvent;

/// <summary>A capture file problem (corrupt record, unknown block...), naming the file and byte offset.</summary>
public sealed record ProblemEvent(CaptureProblem Problem) : ReplayEvent;

/// <summary>Something the user should know about the run (which lab was used, an inferred host, lab warnings).</summary>
public sealed record InfoEvent(string Message, bool IsWarning = false) : ReplayEvent;

public sealed record ProgressEvent(string File, long Position, long Length, long Frames) : ReplayEvent;
