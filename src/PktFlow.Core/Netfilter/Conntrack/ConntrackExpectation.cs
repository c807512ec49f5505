using System.Text;
using PktFlow.Wire;

namespace PktFlow.Netfilter.Conntrack;

/// <summary>
/// An expectation (struct nf_conntrack_expect): a connection a helper announced. The tuple gives the
/// addresses, protocol and destination port; the mask of every helper modelled leaves the source port
/// open (nf_ct_expect_init with no source port). The first new connection whose original tuple
/// matches becomes RELATED to <see cref="Master"/> (init_conntrack) and the expectation is gone.
/// </summary>
public sealed class ConntrackExpectation
{
    internal ConntrackExpectation(ConntrackTuple tuple, ConntrackEntry master, ConntrackHelper helper, long createdNs)
    {
        Tuple = tuple;
        Master = master;
        Helper = helper;
        CreatedNs = createdNs;
        ExpiresNs = createdNs + helper.ExpectTimeoutSeconds * 1_000_000_000L;
    }

    /// <summary>The expected original tuple; its source port is 0 (any: the mask does not cover it).</summary>
    public ConntrackTuple Tuple { get; }
    public ConntrackEntry Master { get; }
    public ConntrackHelper Helper { get; }
    public long CreatedNs { get; }
    /// <summary>Capture time (ns) the expectation's timer fires (nf_ct_expectation_timed_out).</summary>
    public long ExpiresNs { get; }
    public ushort Zone => Master.Zone;

    /// <summary>nf_ct_tuple_mask_cmp under the mask: addresses, protocol and destination port exact, any source port.</summary>
    public bool Matches(in ConntrackTuple t) =>
        t.Source == Tuple.Source && t.Destination == Tuple.Destination && t.Protocol == Tuple.Protocol && t.DestinationPort == Tuple.DestinationPort;

    /// <summary>
    /// A NAT helper's expectation (exp->expectfn = nf_nat_follow_master): the connection it announces gets
    /// the master's NAT, towards the port <see cref="SavedPort"/> the payload named before it was rewritten
    /// (exp->saved_proto), the master's tuple of the other direction than <see cref="NatDirection"/> giving
    /// the addresses (exp->dir). Null for an expectation of a connection that is not NATed.
    /// </summary>
    public CtDirection? NatDirection { get; init; }
    public ushort SavedPort { get; init; }

    public long SecondsLeft(long nowNs) => Math.Max(0, (ExpiresNs - nowNs) / 1_000_000_000);

    /// <summary>One line as <c>conntrack -L expect</c> prints it (conntrack-tools 1.4: timeout, proto, tuple,
    /// mask, master tuple, class, helper).</summary>
    public string ToString(long nowNs)
    {
        var sb = new StringBuilder(200);
        string all = Tuple.Source.IsV6 ? "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" : "255.255.255.255";
        sb.Append(SecondsLeft(nowNs)).Append(" proto=").Append(Tuple.Protocol).Append(' ')
          .Append(Tuple).Append(" mask-src=").Append(all).Append(" mask-dst=").Append(all).Append(" sport=0 dport=65535")
          .Append(" master-src=").Append(Master.Original.Source).Append(" master-dst=").Append(Master.Original.Destination)
          .Append(" sport=").Append(Master.Original.SourcePort).Append(" dport=").Append(Master.Original.DestinationPort)
          .Append(" class=0 helper=").Append(Helper.Name);
        return sb.ToString();
    }
}
