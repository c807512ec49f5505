using PktFlow.Netfilter;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Datapath;

/// <summary>
/// Observe mode: who sent the first packet of a connection seen leaving after source NAT. The capture
/// shows only the NAT address; the namespaces behind it are tried as senders, and the connected
/// sockets the configuration declares (<see cref="NetNamespace.ClientSockets"/>) say which of them
/// holds the flow.
/// </summary>
public sealed partial class DatapathEngine
{
    /// <summary>A namespace that could have sent the packet: the packet as it wrote it, and its declared socket for that flow (null: none declared).</summary>
    internal readonly record struct SnatSender(NetNamespace Sender, ConntrackTuple Pre, ClientSocket? Socket, bool Remapped);

    /// <summary>Declared sockets a frame of this replay was already attributed to (a later flow prefers another).</summary>
    private readonly HashSet<ClientSocket> _usedClientSockets = new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// The first packet of a source-NATed connection leaves with the NAT address: which namespace sent
    /// it? Each other namespace's own addresses are tried as the source, in a scratch engine (so this
    /// replay's state is untouched); a candidate counts when its packet leaves the capture point with
    /// exactly the addresses and ports seen. A declared socket of the namespace to the same destination
    /// is tried with its own port: that port leaves unchanged, or, when the capture namespace's
    /// conntrack already holds a connection with it after NAT, as a port the kernel picked at random
    /// (get_unique_tuple), which may be the one seen.
    /// </summary>
    internal List<SnatSender> SendersBeforeSnat(SkBuff skb, InjectionPoint at)
    {
        var found = new List<SnatSender>();
        if (!ConntrackTable.TryTupleAnyProtocol(skb.Network, skb.Protocol == EtherTypes.Ipv6, out var seen)) return found;
        var table = StateOf(at.Namespace).Conntrack;
        // an echo socket sends requests (type 8 / 128, code 0): ICMP tuples keep type and code in the destination port
        bool echo = !seen.IsIcmp || seen.DestinationPort is 8 << 8 or 128 << 8;
        foreach (var ns in Topology.Namespaces)
        {
            if (ns == at.Namespace || ns.IsLocalAddress(seen.Destination)) continue;
            SnatSender? hit = null, bare = null;
            foreach (var a in ns.Addresses)
            {
                if (a.Family != seen.Source.Family || a.Scope != AddressScope.Global || at.Namespace.IsLocalAddress(a.Address)) continue;
                foreach (var socket in ns.ClientSockets)
                {
                    if (!echo || !socket.Sends(seen.Protocol, a.Address, socket.LocalPort, seen.Destination, seen.DestinationPort)) continue;
                    var pre = seen with { Source = a.Address, SourcePort = socket.LocalPort };
                    if (table.Find(pre) is not null) continue; // that flow exists: it leaves as its entry says, which is not what was seen
                    var own = seen with { SourcePort = socket.LocalPort };
                    // its own port after NAT is taken by another connection: the kernel picks another one
                    bool remapped = own != seen && table.Find(ConntrackEntry.Invert(own)) is not null;
                    if ((own == seen || remapped) && LeavesAs(skb, at, ns, pre, own)) { hit = new SnatSender(ns, pre, socket, remapped); break; }
                }
                if (hit is not null) break;
                var guess = seen with { Source = a.Address };
                if (bare is null && LeavesAs(skb, at, ns, guess, seen)) bare = new SnatSender(ns, guess, null, false);
            }
            if ((hit ?? bare) is { } f) found.Add(f);
        }
        return found;
    }

    /// <summary>
    /// The sender, when the candidates tell it: the only one; else the only one holding a socket for
    /// the flow; else, among several holding one, the first the traffic script opened that no earlier
    /// frame was attributed to (its commands run one after another). Null when it stays ambiguous;
    /// <paramref name="why"/> says which way, in words, either way.
    /// </summary>
    internal SnatSender? ChooseSnatSender(List<SnatSender> found, out string why)
    {
        string Names(IEnumerable<SnatSender> l) => string.Join(" and ", l.Select(f => f.Sender.Name));
        string Held(SnatSender f) =>
            $"{f.Sender.Name} has a socket {f.Socket!.Describe(f.Pre.Source)} ({f.Socket.Source})"
            + (f.Remapped ? $", whose {(f.Pre.IsIcmp ? "ICMP id" : "port")} {f.Pre.SourcePort} is taken after NAT by another connection, so the kernel picked another" : "");
        why = "";
        if (found.Count == 0) return null;
        var holding = found.Where(f => f.Socket is not null).ToList();
        if (found.Count == 1)
        {
            why = $"of the namespaces in the model only {found[0].Sender.Name} sends a packet that leaves here like this{(holding.Count == 1 ? $" ({Held(holding[0])})" : "")}";
            return Use(found[0]);
        }
        if (holding.Count == 1)
        {
            why = $"{Names(found)} would each send a packet that leaves here like this; {Held(holding[0])}";
            return Use(holding[0]);
        }
        if (holding.Count > 1)
        {
            var open = holding.Where(f => !_usedClientSockets.Contains(f.Socket!)).ToList();
            if (open.Count > 0 && open.All(f => f.Socket!.Order is not null))
            {
                var first = open.MinBy(f => f.Socket!.Order);
                why = $"{Names(holding)} each hold a socket for this flow ({string.Join("; ", holding.Select(Held))}); the traffic script runs its commands one after another and opens {first.Sender.Name}'s first of those no earlier frame showed";
                return Use(first);
            }
            why = $"{Names(holding)} each hold a socket for this flow ({string.Join("; ", holding.Select(Held))}), so the model cannot tell which";
            return null;
        }
        why = $"{Names(found)} would each send a packet that leaves here like this, and none holds a declared socket for it, so the model cannot tell which";
        return null;

        SnatSender Use(SnatSender f)
        {
            if (f.Socket is not null) _usedClientSockets.Add(f.Socket);
            return f;
        }
    }

    /// <summary>Whether <paramref name="sender"/>'s packet <paramref name="pre"/>, in a scratch engine, is sent on the capture device as <paramref name="expected"/>.</summary>
    private bool LeavesAs(SkBuff skb, InjectionPoint at, NetNamespace sender, ConntrackTuple pre, ConntrackTuple expected)
    {
        var scratch = new DatapathEngine(Topology) { Mode = Mode, Seed = Seed };
        foreach (var (dev, senders) in StateOf(at.Namespace).ObservedSenders) scratch.StateOf(at.Namespace).ObservedSenders[dev] = senders;
        var copy = new SkBuff(skb.Data) { Netns = sender, Dev = skb.Dev, Engine = scratch, TimestampNs = skb.TimestampNs, MacHeader = skb.MacHeader, NetworkHeader = skb.NetworkHeader, Protocol = skb.Protocol };
        NfNat.Reconstruct(copy, pre);
        UndoForwardHop(copy);
        var t = new TraceBuilder();
        IPv4.IpLocalOut.Send(copy, t, pre.Source, pre.Destination, at.Device);
        // it must have been sent on the capture device (it may go on into a modelled namespace behind it)
        bool sentHere = t.Path.Any(e => e.Stage is "VethXmit" or "DevQueueXmit" && e.Namespace == at.Namespace.Name && e.Device == at.Device.Name);
        return sentHere && ConntrackTable.TryTupleAnyProtocol(copy.Network, copy.Protocol == EtherTypes.Ipv6, out var after) && after == expected;
    }
}
