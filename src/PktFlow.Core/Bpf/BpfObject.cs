namespace PktFlow.Bpf;

/// <summary>
/// A BPF object file as clang -O2 -target bpf -c writes it, loaded the way libbpf and iproute2 do:
/// every executable section but .text is a program named by its section (`sec NAME`), .text holds
/// the subprograms they call (appended to each program that calls them), maps come from the legacy
/// `maps` section (struct bpf_elf_map / bpf_map_def: type, key_size, value_size, max_entries) or
/// the BTF-defined `.maps` section, and .data/.rodata/.bss become one-element array maps that lddw
/// (BPF_PSEUDO_MAP_VALUE) points into. R_BPF_64_64 relocations name maps and data; R_BPF_64_32
/// relocations name called functions.
/// </summary>
public sealed class BpfObject
{
    private const uint RBpf64_64 = 1, RBpf64_32 = 10;

    public string File { get; }
    public IReadOnlyList<BpfMapDef> Maps { get; }
    public IReadOnlyList<BpfProgram> Programs { get; }
    /// <summary>The license section's text (GPL-only helpers need "GPL" in the kernel).</summary>
    public string License { get; }

    private BpfObject(string file, IReadOnlyList<BpfMapDef> maps, IReadOnlyList<BpfProgram> programs, string license)
    {
        File = file;
        Maps = maps;
        Programs = programs;
        License = license;
    }

    public static BpfObject Load(string path) => Parse(System.IO.File.ReadAllBytes(path), path);

    /// <summary>
    /// The program of section name as iproute2 (with libbpf) attaches it (`ip link ... sec NAME`,
    /// `tc ... bpf obj F sec NAME`): it loads that program alone, so a program array slot naming
    /// another program cannot be filled and the load fails (libbpf: "failed to initialize slot").
    /// </summary>
    public BpfProgram Program(string section)
    {
        var prog = Programs.FirstOrDefault(p => p.Section == section)
            ?? throw new BpfLoadException($"{File}: no program in section {section} (has {string.Join(", ", Programs.Select(p => p.Section))})");
        foreach (var m in Maps)
            foreach (var (slot, name) in m.ProgramSlots ?? new Dictionary<int, string>())
                if (name != prog.Name)
                    throw new BpfLoadException($"{File}: map {m.Name}: slot [{slot}] names program {name}, which is not loaded: iproute2 loads only the program it attaches ({prog.Name})");
        return prog;
    }

    public static BpfObject Parse(byte[] bytes, string file)
    {
        var elf = new BpfElfFile(bytes, file);
        var maps = new List<BpfMapDef>();
        var mapBySymbol = new Dictionary<string, int>();
        var dataMapBySection = new Dictionary<int, int>();

        if (elf.Find("maps") is { } legacy)
        {
            var data = elf.Data(legacy);
            foreach (var sym in elf.Symbols.Where(s => s.Section == legacy.Index && s.Type != BpfElfFile.SttSection).OrderBy(s => s.Value))
            {
                if ((int)sym.Value + 16 > data.Length) throw elf.Bad($"maps: {sym.Name} is out of the section");
                var d = data[(int)sym.Value..];
                uint type = BitConverter.ToUInt32(d), key = BitConverter.ToUInt32(d[4..]), value = BitConverter.ToUInt32(d[8..]), max = BitConverter.ToUInt32(d[12..]);
                if (!BpfMapDef.IsModelledType(type)) throw elf.Bad($"maps: {sym.Name}: unsupported: map type {type}");
                if (type == (uint)BpfMapType.ProgArray)
                    throw elf.Bad($"maps: {sym.Name}: unsupported: a legacy program array (iproute2's ID/KEY tail call sections; tc with libbpf 1.x refuses the legacy maps section)");
                mapBySymbol[sym.Name] = maps.Count;
                maps.Add(Checked(elf, new BpfMapDef(sym.Name, (BpfMapType)type, (int)key, (int)value, (int)max)));
            }
        }
        if (elf.Find(".maps") is { } btfMaps)
        {
            var btf = elf.Find(".BTF") ?? throw elf.Bad(".maps without .BTF (compile with -g)");
            var defs = BpfBtfMaps.Read(elf.Data(btf), elf.Bad);
            var syms = elf.Symbols.Where(s => s.Section == btfMaps.Index && s.Type != BpfElfFile.SttSection).OrderBy(s => s.Value).ToList();
            foreach (var sym in syms)
            {
                if (!defs.TryGetValue(sym.Name, out var def)) throw elf.Bad($".maps: no BTF definition for {sym.Name}");
                var slots = ProgramSlots(elf, btfMaps, sym, syms, def.ValuesOffset);
                mapBySymbol[sym.Name] = maps.Count;
                maps.Add(Checked(elf, slots is null ? def.Def : def.Def with { ProgramSlots = slots }));
            }
        }
        int DataMap(BpfElfFile.Section s)
        {
            if (dataMapBySection.TryGetValue(s.Index, out int i)) return i;
            bool ro = s.Name.StartsWith(".rodata", StringComparison.Ordinal);
            dataMapBySection[s.Index] = maps.Count;
            maps.Add(new BpfMapDef(s.Name, BpfMapType.Array, 4, Math.Max(s.Size, 1), 1, elf.Data(s).ToArray() is { Length: > 0 } v ? v : new byte[1], ro));
            return maps.Count - 1;
        }

        var text = elf.Find(".text");
        var programs = new List<BpfProgram>();
        foreach (var sec in elf.Sections)
        {
            if ((sec.Flags & BpfElfFile.ShfExecinstr) == 0 || sec.Type != BpfElfFile.ShtProgbits || sec.Name == ".text" || sec.Size == 0) continue;
            var insns = BpfInsn.DecodeAll(elf.Data(sec)).ToList();
            int textStart = -1;
            bool NeedsText(int secIndex) => elf.RelocationsFor(secIndex).Any(r => r.Type == RBpf64_32 && text is not null && elf.Symbols[r.Symbol].Section == text.Index);
            if (text is not null && NeedsText(sec.Index))
            {
                textStart = insns.Count;
                insns.AddRange(BpfInsn.DecodeAll(elf.Data(text)));
            }
            void Relocate(BpfElfFile.Section s, int @base)
            {
                foreach (var rel in elf.RelocationsFor(s.Index))
                {
                    int i = @base + (int)(rel.Offset / BpfInsn.Size);
                    if (i >= insns.Count || rel.Symbol >= elf.Symbols.Count) throw elf.Bad($"{s.Name}: relocation at {rel.Offset} out of range");
                    var sym = elf.Symbols[rel.Symbol];
                    var x = insns[i];
                    if (rel.Type == RBpf64_64 && x.Opcode == BpfOp.LdDw && i + 1 < insns.Count)
                    {
                        var symSec = sym.Section < elf.Sections.Count ? elf.Sections[sym.Section] : null;
                        if (mapBySymbol.TryGetValue(sym.Name, out int m) && symSec?.Name is "maps" or ".maps")
                            insns[i] = x with { Src = BpfOp.PseudoMapFd, Imm = m };
                        else if (symSec is not null && IsData(symSec.Name))
                        {
                            insns[i] = x with { Src = BpfOp.PseudoMapValue, Imm = DataMap(symSec) };
                            insns[i + 1] = insns[i + 1] with { Imm = (int)sym.Value + x.Imm };
                        }
                        else throw elf.Bad($"{s.Name}: instruction {i - @base}: unsupported: relocation against {sym.Name} in {symSec?.Name ?? "no section"}");
                    }
                    else if (rel.Type == RBpf64_32 && x.Opcode == BpfOp.CallOp && x.Src == BpfOp.PseudoCall)
                    {
                        int targetBase = sym.Section == s.Index ? @base : text is not null && sym.Section == text.Index && textStart >= 0 ? textStart
                            : throw elf.Bad($"{s.Name}: instruction {i - @base}: call into section {sym.Section}");
                        int target = targetBase + (int)(sym.Value / BpfInsn.Size) + x.Imm + 1;
                        insns[i] = x with { Imm = target - (i + 1) };
                    }
                    else throw elf.Bad($"{s.Name}: instruction {i - @base}: unsupported: relocation type {rel.Type} on opcode 0x{x.Opcode:x2}");
                }
            }
            Relocate(sec, 0);
            if (textStart >= 0) Relocate(text!, textStart);
            programs.Add(new BpfProgram(ProgramName(elf, sec), sec.Name, insns.ToArray(), maps));
        }
        // every program sees every map of the object: maps added while relocating a later program are included
        var final = programs.Select(p => p.Maps.Count == maps.Count ? p : new BpfProgram(p.Name, p.Section, p._insns, maps)).ToList();
        string license = elf.Find("license") is { } lic ? System.Text.Encoding.ASCII.GetString(elf.Data(lic)).TrimEnd('\0') : "";
        if (final.Count == 0) throw elf.Bad("no program sections");
        return new BpfObject(file, maps, final, license);
    }

    /// <summary>
    /// A program array's initial slots: each relocation in .rel.maps inside the map's `values` member
    /// names a program; its slot is the pointer's index there (libbpf's bpf_object__collect_map_relos).
    /// </summary>
    private static Dictionary<int, string>? ProgramSlots(BpfElfFile elf, BpfElfFile.Section maps, BpfElfFile.Symbol map, List<BpfElfFile.Symbol> all, int? valuesOffset)
    {
        Dictionary<int, string>? slots = null;
        ulong end = all.Where(s => s.Value > map.Value).Select(s => s.Value).DefaultIfEmpty((ulong)maps.Size).Min();
        foreach (var rel in elf.RelocationsFor(maps.Index))
        {
            if (rel.Offset < map.Value || rel.Offset >= end) continue;
            if (valuesOffset is null) throw elf.Bad($".maps: {map.Name}: a relocation outside a values member");
            long at = (long)(rel.Offset - map.Value) - valuesOffset.Value;
            if (at < 0 || at % 8 != 0 || rel.Symbol >= elf.Symbols.Count) throw elf.Bad($".maps: {map.Name}: a relocation at offset {rel.Offset} is not a values slot");
            var target = elf.Symbols[rel.Symbol];
            bool isProgram = target.Type == BpfElfFile.SttFunc && target.Section < elf.Sections.Count
                && (elf.Sections[target.Section].Flags & BpfElfFile.ShfExecinstr) != 0 && elf.Sections[target.Section].Name != ".text";
            if (!isProgram) throw elf.Bad($".maps: {map.Name}: slot [{at / 8}] names {target.Name}, which is not a program");
            (slots ??= new())[(int)(at / 8)] = target.Name;
        }
        return slots;
    }

    private static bool IsData(string name) =>
        name.StartsWith(".data", StringComparison.Ordinal) || name.StartsWith(".rodata", StringComparison.Ordinal) || name.StartsWith(".bss", StringComparison.Ordinal);

    private static string ProgramName(BpfElfFile elf, BpfElfFile.Section sec) =>
        elf.Symbols.FirstOrDefault(s => s.Section == sec.Index && s.Type == BpfElfFile.SttFunc && s.Value == 0)?.Name ?? sec.Name;

    private static BpfMapDef Checked(BpfElfFile elf, BpfMapDef d)
    {
        if (d.MaxEntries <= 0 || d.ValueSize <= 0 || d.KeySize <= 0) throw elf.Bad($"map {d.Name}: key, value and max_entries must be positive");
        if ((d.IsArray || d.Type == BpfMapType.ProgArray) && d.KeySize != 4) throw elf.Bad($"map {d.Name}: an array's key is 4 bytes");
        if (d.Type == BpfMapType.ProgArray && d.ValueSize != 4) throw elf.Bad($"map {d.Name}: a program array's value is 4 bytes (a program fd)");
        if (d.ProgramSlots is { } slots && slots.Keys.Max() >= d.MaxEntries)
            throw elf.Bad($"map {d.Name}: slot [{slots.Keys.Max()}] is beyond max_entries {d.MaxEntries}");
        if ((long)d.MaxEntries * d.ValueSize > 64 << 20) throw elf.Bad($"map {d.Name}: over 64 MiB of values");
        return d;
    }
}
