namespace PktFlow.Bpf;

/// <summary>
/// An element user space put into a map before any packet (`bpftool map update name MAP key ...
/// value ...` in a lab): applied to the map's contents each time a replay starts the program.
/// Flags are BPF_ANY (0), BPF_NOEXIST (1), BPF_EXIST (2); Source is the lab line.
/// </summary>
public sealed record BpfMapUpdate(string MapName, byte[] Key, byte[] Value, ulong Flags, string Source);
