using PktFlow.Tc;

namespace PktFlow.Topology.Lab;

public sealed partial class LabLoader
{
    /// <summary>
    /// `tc [-n NS] qdisc add|del dev D clsact|ingress` and `tc [-n NS] filter add|replace|del dev D
    /// ingress|egress ...` (docs/lab-format.md): the clsact filters the model evaluates. Other qdiscs
    /// (root shaping, netem) stay recorded as not modelled; filter text the model cannot evaluate is
    /// refused with its line and word.
    /// </summary>
    private void Tc(List<string> w, string ns)
    {
        int i = 1;
        for (; i < w.Count && w[i].StartsWith('-'); i++)
        {
            switch (w[i])
            {
                case "-n" or "-netns" or "--netns":
                    ns = Need(w, ++i, "namespace name");
                    if (!_namespaces.ContainsKey(ns)) throw Error($"Cannot open network namespace \"{ns}\"", ns);
                    break;
                case "-j" or "-json" or "-s" or "-stats" or "-d" or "-details" or "-p" or "-pretty": break;
                default: throw Error($"tc option {w[i]} is not supported", w[i]);
            }
        }
        var obj = Need(w, i, "tc object (qdisc, filter)");
        var verb = i + 1 < w.Count ? w[i + 1] : "show";
        var rest = w.Skip(i + 2).ToList();
        if (verb is "show" or "list" or "ls") return;
        var b = _namespaces[ns];
        switch (obj)
        {
            case "qdisc" when TcQdisc(rest, b, verb): break;
            case "filter" or "f" when verb is "add" or "replace" or "change" or "del" or "delete":
                TcFilterCommand(rest, b, verb);
                break;
            default:
                b.NoteUnmodelled($"{_file}:{_cmd.Line}: {_cmd.Text}");
                Warn($"'tc {obj} {verb}' is not modelled; its effect is not evaluated");
                break;
        }
    }

    /// <summary>clsact/ingress qdiscs; false for other qdiscs (left unmodelled).</summary>
    private bool TcQdisc(List<string> a, NamespaceBuilder b, string verb)
    {
        string? dev = null, kind = null;
        for (int i = 0; i < a.Count; i++)
        {
            switch (a[i])
            {
                case "dev": dev = Need(a, ++i, "device"); break;
                case "handle" or "parent": i++; break;
                case "clsact" or "ingress": kind = a[i]; break;
                default: return false;
            }
        }
        if (kind is null) return false;
        if (dev is null) throw Error("expected 'dev DEVICE'");
        if (!b.HasDevice(dev)) throw Error($"Cannot find device \"{dev}\"", dev);
        switch (verb)
        {
            case "add" or "replace": if (!(verb == "replace" && b.TcQdiscOf(dev) == kind)) b.AddTcQdisc(dev, kind); break;
            case "del" or "delete": b.DeleteTcQdisc(dev, kind); break;
            default: throw Error($"tc qdisc {verb} is not supported", verb);
        }
        return true;
    }

    private void TcFilterCommand(List<string> a, NamespaceBuilder b, string verb)
    {
        if (verb is "del" or "delete")
        {
            TcFilterDelete(a, b);
            return;
        }
        if (verb == "change") throw Error("tc filter change is not modelled (it needs a handle): delete and add", verb);
        TcFilterSpec spec;
        try { spec = TcFilterParser.Parse(a, LoadBpf); }
        catch (TcParseException e) { throw Error(e.Message, e.Token); }
        if (!b.HasDevice(spec.Device)) throw Error($"Cannot find device \"{spec.Device}\"", spec.Device);
        b.AddTcFilter(spec.Device, spec.Direction, spec.Pref, spec.Protocol, spec.Classifier, spec.Actions, $"{_file}:{_cmd.Line}");
    }

    /// <summary>tc filter del dev D ingress|egress [pref N]: every filter of the direction, or of one pref.</summary>
    private void TcFilterDelete(List<string> a, NamespaceBuilder b)
    {
        string? dev = null; TcDirection? dir = null; int pref = 0;
        for (int i = 0; i < a.Count; i++)
        {
            switch (a[i])
            {
                case "dev": dev = Need(a, ++i, "device"); break;
                case "ingress": dir = TcDirection.Ingress; break;
                case "egress": dir = TcDirection.Egress; break;
                case "pref" or "prio" or "priority": pref = (int)ParseNumber(Need(a, ++i, "pref")); break;
                case "protocol": i++; break;
                default: throw Error($"tc filter del: '{a[i]}' is not modelled (dev, ingress|egress, pref)", a[i]);
            }
        }
        if (dev is null || dir is null) throw Error("expected 'dev DEVICE ingress|egress'");
        if (!b.HasDevice(dev)) throw Error($"Cannot find device \"{dev}\"", dev);
        b.DeleteTcFilters(dev, dir.Value, pref);
    }
}
