using PktFlow.Capture;

namespace PktFlow.Filter;

/// <summary>
/// A tcpdump-style capture filter (pcap-filter(7)) compiled once and evaluated per packet without
/// allocating: <c>CaptureFilter.Parse("tcp port 80 and not host 10.0.0.1").Matches(linkType, frame)</c>.
/// </summary>
/// <remarks>
/// PktFlow compiles the expression itself, without libpcap, and evaluates it the way tcpdump's BPF
/// program does: fields are read at fixed offsets with no validation of the headers, a read past the
/// captured bytes rejects the packet, 'and' and 'or' have equal precedence and group left to right,
/// and every 'vlan' shifts the primitives after it by one tag. The compiled form does not depend on
/// the link type; <see cref="CheckLinkType"/> tells when a primitive cannot apply to one (where
/// tcpdump would refuse to compile the expression). What is and is not supported, and where
/// PktFlow knowingly differs from tcpdump, is in Filter/README.md.
/// </remarks>
public sealed class CaptureFilter
{
    private readonly FilterNode _root;
    private readonly LinkNeeds _needs;

    private CaptureFilter(string expression, FilterNode root, LinkNeeds needs)
    {
        Expression = expression;
        _root = root;
        _needs = needs;
    }

    /// <summary>Matches every packet (what an empty expression compiles to).</summary>
    public static CaptureFilter All { get; } = new("", TrueNode.Instance, LinkNeeds.None);

    /// <summary>
    /// Compiles a pcap-filter expression. An empty or blank expression matches everything.
    /// </summary>
    /// <exception cref="FilterSyntaxException">The expression is not valid, or uses something PktFlow
    /// does not implement; the message names the column.</exception>
    public static CaptureFilter Parse(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var (root, needs) = FilterParser.Compile(expression);
        return new CaptureFilter(expression, root, needs);
    }

    /// <summary>Like <see cref="Parse"/>, returning the error instead of throwing it.</summary>
    public static bool TryParse(string expression, out CaptureFilter? filter, out FilterSyntaxException? error)
    {
        try
        {
            filter = Parse(expression);
            error = null;
            return true;
        }
        catch (FilterSyntaxException e)
        {
            filter = null;
            error = e;
            return false;
        }
    }

    /// <summary>The expression as given to <see cref="Parse"/>.</summary>
    public string Expression { get; }

    /// <summary>
    /// Whether the frame matches, taking its length on the wire (<c>len</c>, <c>less</c>,
    /// <c>greater</c>) to be the captured length.
    /// </summary>
    public bool Matches(LinkType linkType, ReadOnlySpan<byte> frame) => Matches(linkType, frame, frame.Length);

    /// <summary>
    /// Whether the frame matches. <paramref name="originalLength"/> is the packet's length on the wire
    /// (<see cref="CaptureFrame.OriginalLength"/>), which is what <c>len</c> means in pcap-filter.
    /// </summary>
    public bool Matches(LinkType linkType, ReadOnlySpan<byte> frame, int originalLength)
    {
        var packet = new FilterPacket(linkType, frame, originalLength);
        bool match = _root.Eval(ref packet);
        return match && !packet.Aborted;
    }

    /// <summary>
    /// Why the expression cannot apply to captures of <paramref name="linkType"/>, in the words
    /// tcpdump uses when it refuses to compile it; null when it can. Such primitives are simply false
    /// on those captures (so <c>not vlan</c> matches every cooked frame): callers should show this
    /// to the user rather than quietly filter.
    /// </summary>
    public string? CheckLinkType(LinkType linkType)
    {
        string name = LinkLayer.Describe(linkType);
        bool ethernet = linkType == LinkType.Ethernet;
        if ((_needs & LinkNeeds.Vlan) != 0 && !ethernet)
        {
            return $"pcap filter: no VLAN support for link type {name}: only Ethernet frames carry their tags in band";
        }

        if ((_needs & LinkNeeds.EthernetAddress) != 0 && !ethernet)
        {
            return $"pcap filter: Ethernet addresses are supported only on Ethernet captures, not link type {name}";
        }

        if ((_needs & LinkNeeds.LinkBroadcast) != 0 && !ethernet)
        {
            return $"pcap filter: link type {name} is not a broadcast link";
        }

        if ((_needs & LinkNeeds.LinkMulticast) != 0 && !ethernet)
        {
            return $"pcap filter: link-layer multicast filters are supported only on Ethernet captures, not link type {name}";
        }

        if ((_needs & LinkNeeds.Direction) != 0 && linkType is not (LinkType.LinuxSll or LinkType.LinuxSll2))
        {
            return $"pcap filter: inbound/outbound are supported only on Linux cooked captures when reading files, not link type {name}";
        }

        if ((_needs & LinkNeeds.Network) != 0 && !LinkLayer.IsSupported(linkType))
        {
            return $"pcap filter: PktFlow does not decode link type {name}, so protocol, address and port tests never match";
        }

        return null;
    }

    /// <summary>The compiled tree, fully parenthesised (for tests and debugging).</summary>
    internal string Describe() => _root.ToString();

    public override string ToString() => Expression;
}
