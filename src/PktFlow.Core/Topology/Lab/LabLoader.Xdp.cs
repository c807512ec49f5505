using PktFlow.Bpf;

namespace PktFlow.Topology.Lab;

/// <summary>`ip link set dev X xdp|xdpgeneric|xdpdrv obj FILE [sec NAME] [verbose]` and `... xdp off`.</summary>
public sealed partial class LabLoader
{
    /// <summary>Reads the XDP words from a[i] (the mode); returns the index of the last word used.</summary>
    private int XdpSet(List<string> a, int i, NamespaceBuilder b, string dev)
    {
        string mode = a[i];
        if (mode == "xdpoffload") throw Error("unsupported: xdpoffload runs on a NIC's own processor", mode);
        var what = Need(a, ++i, "obj FILE or off");
        if (what == "off") { b.SetXdp(dev, null); return i; }
        if (what != "obj") throw Error(what == "pinned" ? "unsupported: pinned XDP programs (the model reads object files)" : "expected obj FILE or off after " + mode, what);
        var file = Need(a, ++i, "object file");
        string section = "prog"; // iproute2's default section for XDP
        while (i + 1 < a.Count && a[i + 1] is "sec" or "section" or "program" or "verbose" or "verb")
        {
            var w = a[++i];
            if (w is "verbose" or "verb") continue;
            if (w == "program") throw Error("unsupported: selecting a program by name (use sec NAME)", w);
            section = Need(a, ++i, "section name");
        }
        b.SetXdp(dev, new XdpAttachment(LoadBpf(file, section), mode, $"{_file}:{_cmd.Line}: {_cmd.Text}"));
        return i;
    }

    /// <summary>
    /// The program of section in an object file named relative to the lab's directory (lab.sh runs
    /// there). A lab commits the object clang built next to its source, so the model needs no compiler.
    /// </summary>
    private BpfProgram LoadBpf(string file, string section)
    {
        var path = Path.IsPathRooted(file) ? file : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(_file)) ?? ".", file);
        if (!File.Exists(path)) throw Error($"no BPF object {file} (commit the .o clang built next to the lab)", file);
        try { return BpfObject.Load(path).Program(section); }
        catch (BpfLoadException e) { throw Error(e.Message, file); }
    }
}
