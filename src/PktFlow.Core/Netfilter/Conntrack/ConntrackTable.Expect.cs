namespace PktFlow.Netfilter.Conntrack;

/// <summary>
/// The expectation table of a namespace (nf_conntrack_expect.c): what helpers announced, found by
/// init_conntrack for a new connection, removed when used, when their timer fires, or with their master.
/// </summary>
public sealed partial class ConntrackTable
{
    private readonly List<ConntrackExpectation> _expects = new();

    /// <summary>Expectations not used and not timed out at the last lookup time (conntrack -L expect).</summary>
    public IReadOnlyList<ConntrackExpectation> Expectations
    {
        get
        {
            _expects.RemoveAll(x => x.ExpiresNs <= _nowNs);
            return _expects.ToList();
        }
    }

    /// <summary>
    /// nf_ct_expect_related (__nf_ct_expect_check): an expectation of the same tuple from the same master
    /// replaces the old one; from another master, or overlapping another's, it is refused (-EALREADY,
    /// -EBUSY: the helper then drops the packet). Over the helper's max_expected the master's oldest
    /// goes (evict_oldest_expect). Returns why it was refused, or null.
    /// </summary>
    internal string? ExpectRelated(ConntrackExpectation exp)
    {
        _expects.RemoveAll(x => x.ExpiresNs <= _nowNs);
        var same = _expects.FirstOrDefault(x => x.Zone == exp.Zone && x.Tuple == exp.Tuple);
        if (same is not null)
        {
            if (!ReferenceEquals(same.Master, exp.Master)) return $"another connection ({same.Master.Original}) already expects {exp.Tuple}";
            _expects.Remove(same);
        }
        var mine = _expects.Where(x => ReferenceEquals(x.Master, exp.Master)).ToList();
        if (exp.Helper.MaxExpected > 0 && mine.Count >= exp.Helper.MaxExpected)
            _expects.Remove(mine.MinBy(x => x.CreatedNs)!);
        _expects.Add(exp);
        return null;
    }

    /// <summary>
    /// Observe mode: the original tuple a new connection had before the NAT a NAT helper's expectation
    /// gives it (nf_nat_follow_master), from the tuple it is seen with after that NAT; null when no
    /// pending expectation explains it. The source port is taken as kept (the usual case).
    /// </summary>
    internal ConntrackTuple? BeforeFollowMaster(in ConntrackTuple seen)
    {
        foreach (var x in _expects)
        {
            if (x.NatDirection is not { } d || x.ExpiresNs <= _nowNs || x.Tuple.Protocol != seen.Protocol) continue;
            var m = d == CtDirection.Original ? x.Master.Reply : x.Master.Original;
            if (seen.Source == m.Destination && seen.Destination == m.Source && seen.DestinationPort == x.SavedPort)
                return new ConntrackTuple(x.Tuple.Source, x.Tuple.Destination, x.Tuple.Protocol, seen.SourcePort, x.Tuple.DestinationPort);
        }
        return null;
    }

    /// <summary>nf_ct_unexpect_related: a NAT helper takes back the expectation it could not announce.</summary>
    internal void UnexpectRelated(ConntrackExpectation exp) => _expects.Remove(exp);

    /// <summary>
    /// nf_ct_find_expectation for a new connection's original tuple: an expectation whose master is
    /// confirmed and alive; it is unlinked (no PERMANENT expectations here). Null when none matches.
    /// </summary>
    private ConntrackExpectation? FindExpectation(in ConntrackTuple tuple, ushort zone)
    {
        if (_expects.Count == 0) return null;
        for (int i = 0; i < _expects.Count; i++)
        {
            var x = _expects[i];
            if (x.ExpiresNs <= _nowNs || x.Zone != zone || !x.Matches(tuple)) continue;
            if (!x.Master.Confirmed || x.Master.Dying || x.Master.IsExpired(_nowNs)) return null;
            _expects.RemoveAt(i);
            return x;
        }
        return null;
    }

    /// <summary>nf_ct_remove_expectations: a connection that goes takes what it expected with it.</summary>
    private void RemoveExpectations(ConntrackEntry master)
    {
        if (_expects.Count > 0) _expects.RemoveAll(x => ReferenceEquals(x.Master, master));
    }

    /// <summary>
    /// init_conntrack's "we've been expecting you": a new entry whose tuple an expectation holds gets
    /// IPS_EXPECTED, the master and the master's mark, and its packet is RELATED. Otherwise a template's
    /// helper (iptables -j CT --helper) is assigned (__nf_ct_try_assign_helper).
    /// </summary>
    private CtLookup Expected(CtLookup r, ConntrackHelper? template)
    {
        if (r is not { State: CtState.New, Entry: { Confirmed: false } e }) return r;
        if (FindExpectation(e.Original, e.Zone) is { } exp)
        {
            e.Master = exp.Master;
            e.Mark = exp.Master.Mark;
            if (exp.NatDirection is not null) e.FollowMaster = exp; // exp->expectfn, run by nf_nat (NfNatHelper.FollowMaster)
            return r with { State = CtState.Related, Detail = $"{r.Detail}; expected by the {exp.Helper.Name} helper of {exp.Master.Original}: related" };
        }
        if (template is not null && e.Helper is null)
        {
            e.Helper = template;
            return r with { Detail = $"{r.Detail}; helper {template.Name} from the CT template" };
        }
        return r;
    }
}
