using PktFlow.Wire;

namespace PktFlow.Topology;

/// <summary>A macvlan's mode (enum macvlan_mode, include/uapi/linux/if_link.h), numbered as the kernel's bits.</summary>
[Flags]
public enum MacvlanMode { Private = 1, Vepa = 2, Bridge = 4, Passthru = 8, Source = 16 }

/// <summary>
/// A macvlan device (`ip link add NAME link DEV type macvlan mode M`, drivers/net/macvlan.c): its lower
/// device and that device's namespace (the macvlan may be moved to another one; its port stays on the
/// lower device), its mode, and for mode source the senders' MACs it takes frames from (macaddr add).
/// <c>Promisc</c> and <c>AllMulti</c>: its IFF_PROMISC and IFF_ALLMULTI (`ip link set NAME promisc on`,
/// `allmulticast on`); either makes its mc_filter pass every multicast frame (macvlan_compute_filter).
/// </summary>
public sealed record MacvlanParameters(string Lower, string LowerNamespace, MacvlanMode Mode, IReadOnlyList<MacAddress> SourceMacs,
    bool Promisc = false, bool AllMulti = false)
{
    public bool McFilterFull => Promisc || AllMulti;

    public static string ModeName(MacvlanMode mode) => mode.ToString().ToLowerInvariant();
}

/// <summary>The words of a macvlan's configuration, shared by the lab loader (`mode M`) and the snapshot loader (info_data "mode").</summary>
public static class MacvlanWords
{
    public const string BadMode = "macvlan mode is private, vepa, bridge, passthru or source";

    public static MacvlanMode? Mode(string word) => word switch
    {
        "private" => MacvlanMode.Private, "vepa" => MacvlanMode.Vepa, "bridge" => MacvlanMode.Bridge,
        "passthru" => MacvlanMode.Passthru, "source" => MacvlanMode.Source, _ => null,
    };

    /// <summary>Options that change what the port delivers and the model does not evaluate (nopromisc, nodst, bcqueuelen, bclim).</summary>
    public static string UnsupportedOption(string word) => $"unsupported: macvlan option '{word}' is not modelled (only mode and macaddr)";
}
