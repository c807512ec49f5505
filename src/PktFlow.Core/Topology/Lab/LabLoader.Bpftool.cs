using System.Globalization;
using PktFlow.Bpf;

namespace PktFlow.Topology.Lab;

/// <summary>
/// `bpftool map update name MAP key [hex] BYTES value [hex] BYTES [any|exist|noexist]`: an element for
/// a map of an XDP program the lab attached before (the map lives as long as the program holds it).
/// Other bpftool commands and other ways to name a map (id, pinned) are refused.
/// </summary>
public sealed partial class LabLoader
{
    private void Bpftool(List<string> w, string ns)
    {
        int i = 1;
        while (i < w.Count && w[i].StartsWith('-')) i++; // -j, -p, -d: output options
        if (i + 1 >= w.Count || w[i] != "map" || w[i + 1] != "update")
            throw Error("unsupported: bpftool commands other than `map update name MAP key ... value ...`", string.Join(' ', w.Skip(i)));
        i += 2;
        if (Need(w, i, "name MAP") != "name")
            throw Error("unsupported: a map named other than by `name MAP` (id and pinned maps are not modelled)", w[i]);
        string name = Need(w, ++i, "map name");
        if (Need(w, ++i, "key") != "key") throw Error("expected key BYTES", w[i]);
        var key = Bytes(w, ref i, "value");
        if (Need(w, ++i, "value") != "value") throw Error("expected value BYTES", w[i]);
        var value = Bytes(w, ref i, null);
        ulong flags = 0;
        if (i + 1 < w.Count)
            flags = w[++i] switch
            {
                "any" => 0, "noexist" => 1, "exist" => 2,
                var f => throw Error("expected any, exist or noexist after the value", f),
            };
        if (i + 1 < w.Count) throw Error("unexpected words after the update", w[i + 1]);

        var hits = _namespaces.Values.SelectMany(b => b.XdpWithMap(name).Select(x => (b, x.Device, x.Xdp, x.Map))).ToList();
        if (hits.Count == 0) throw Error($"no XDP program attached so far has a map named {name} (maps of tc programs are not filled by the model)", name);
        if (hits.Count > 1) throw Error($"{hits.Count} maps are named {name}: bpftool cannot tell which (attach the programs after filling, or name the maps apart)", name);
        var (owner, dev, xdp, map) = hits[0];
        if (key.Length != map.KeySize) throw Error($"map {name} has {map.KeySize}-byte keys, the key has {key.Length} bytes", name);
        if (value.Length != map.ValueSize) throw Error($"map {name} has {map.ValueSize}-byte values, the value has {value.Length} bytes", name);
        if (!map.IndexFits(key)) throw Error($"index {BitConverter.ToUInt32(key)} is past map {name}'s {map.MaxEntries} entries (E2BIG)", name);
        if (map.Type == BpfMapType.ProgArray) throw Error("unsupported: program array slots from bpftool (the model fills them from the object's .values)", name);
        // a devmap resolves the ifindex in the namespace bpftool runs in; the model in the program's
        if (map.Type is BpfMapType.DevMap or BpfMapType.DevMapHash && owner != _namespaces[ns])
            throw Error($"unsupported: a devmap of a program in another namespace filled from {ns} (ifindexes are per namespace)", name);
        // the flags' verdict (EEXIST, ENOENT, E2BIG when full) against the lines before: bpftool fails there
        // and the map keeps what it had, so the lab line is refused here rather than at the first packet
        var scratch = new BpfMapState(map);
        foreach (var u in xdp.MapUpdates)
            if (u.MapName == map.Name) scratch.Update(u.Key, u.Value, u.Flags);
        if (scratch.Update(key, value, flags) is < 0 and var err)
            throw Error($"bpftool map update fails here (map_update_elem returns {err}: {UpdateError(err)}); the lab would stop at this line", name);
        owner.SetXdp(dev, xdp with { MapUpdates = [.. xdp.MapUpdates, new BpfMapUpdate(map.Name, key, value, flags, $"{_file}:{_cmd.Line}: {_cmd.Text}")] });
    }

    private static string UpdateError(long err) => err switch
    {
        -17 => "EEXIST, the element exists and the flag is noexist",
        -2 => "ENOENT, no such element and the flag is exist",
        -7 => "E2BIG, the map is full",
        -1 => "EPERM, the map is read-only",
        _ => "EINVAL",
    };

    /// <summary>bpftool's DATA: bytes in C notation (decimal, 0x hex, 0 octal), or after `hex` in hexadecimal.</summary>
    private byte[] Bytes(List<string> w, ref int i, string? until)
    {
        bool hex = i + 1 < w.Count && w[i + 1] == "hex";
        if (hex) i++;
        var bytes = new List<byte>();
        while (i + 1 < w.Count && w[i + 1] != until && !(until is null && w[i + 1] is "any" or "exist" or "noexist"))
        {
            var t = w[++i];
            if (!TryByte(t, hex, out byte b)) throw Error($"'{t}' is not a byte", t);
            bytes.Add(b);
        }
        if (bytes.Count == 0) throw Error("expected bytes", until ?? "value");
        return bytes.ToArray();
    }

    private static bool TryByte(string t, bool hex, out byte b)
    {
        b = 0;
        uint v;
        bool ok = hex ? uint.TryParse(t, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out v)
            : t.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? uint.TryParse(t[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out v)
            : t.Length > 1 && t[0] == '0' ? TryOctal(t[1..], out v)
            : uint.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        if (!ok || v > 255) return false;
        b = (byte)v;
        return true;
    }

    private static bool TryOctal(string t, out uint v)
    {
        v = 0;
        foreach (var c in t)
        {
            if (c is < '0' or > '7') return false;
            v = v * 8 + (uint)(c - '0');
            if (v > 255) return false;
        }
        return true;
    }
}
