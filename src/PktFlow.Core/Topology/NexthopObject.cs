using System.Text;
using PktFlow.Wire;

namespace PktFlow.Topology;

/// <summary>One member of a nexthop group (struct nh_grp_entry): the nexthop's id and its weight.</summary>
public readonly record struct NexthopGroupMember(uint Id, int Weight);

/// <summary>
/// A nexthop object (`ip nexthop add id N ...`, struct nexthop): one gateway and/or device, a
/// blackhole, or a group of other nexthops with weights (a hash-threshold "mpath" group).
/// </summary>
public sealed class NexthopObject
{
    public required uint Id { get; init; }
    public IpAddr? Gateway { get; init; }
    public string? Device { get; init; }
    public bool Blackhole { get; init; }
    /// <summary>The members of a group in the order given, or null for a single nexthop.</summary>
    public IReadOnlyList<NexthopGroupMember>? Group { get; init; }
    /// <summary>The family of a single nexthop (that of its gateway, or IPv4 for `dev D` alone unless -6); null for a group.</summary>
    public IpFamily? Family { get; init; }

    /// <summary>Printed as `ip nexthop show` does.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder($"id {Id}");
        if (Group is { } g)
            sb.Append(" group ").Append(string.Join('/', g.Select(m => m.Weight == 1 ? $"{m.Id}" : $"{m.Id},{m.Weight}")));
        if (Blackhole) sb.Append(" blackhole");
        if (Gateway is { } gw) sb.Append(" via ").Append(gw);
        if (Device is { } d) sb.Append(" dev ").Append(d);
        if (Group is null && !Blackhole && Gateway is not null) sb.Append(" scope link");
        return sb.ToString();
    }
}
