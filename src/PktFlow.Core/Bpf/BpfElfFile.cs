using System.Buffers.Binary;
using System.Text;

namespace PktFlow.Bpf;

/// <summary>
/// The parts of an ELF64 little-endian relocatable object (as clang -target bpf -c writes it) a
/// BPF loader reads: section headers, the symbol table and REL sections (elf(5); SHT_* and
/// Elf64_Sym/Elf64_Rel layouts from include/uapi/linux/elf.h).
/// </summary>
internal sealed class BpfElfFile
{
    public sealed record Section(int Index, string Name, uint Type, ulong Flags, int Offset, int Size, int Link, int Info);
    public sealed record Symbol(string Name, int Section, ulong Value, ulong Size, int Type, int Bind);
    public readonly record struct Rel(ulong Offset, int Symbol, uint Type);

    public const uint ShtProgbits = 1, ShtSymtab = 2, ShtNobits = 8, ShtRel = 9;
    public const ulong ShfExecinstr = 0x4;
    public const int SttSection = 3, SttFunc = 2, SttObject = 1;
    public const uint EmBpf = 247;

    private readonly byte[] _b;
    private readonly string _file;
    public IReadOnlyList<Section> Sections { get; }
    public IReadOnlyList<Symbol> Symbols { get; }

    public BpfElfFile(byte[] bytes, string file)
    {
        _b = bytes;
        _file = file;
        if (bytes.Length < 64 || bytes[0] != 0x7F || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
            throw Bad("not an ELF file");
        if (bytes[4] != 2 || bytes[5] != 1) throw Bad("not a 64-bit little-endian ELF object (clang -target bpf writes bpfel)");
        if (U16(18) != EmBpf) throw Bad($"machine {U16(18)} is not EM_BPF (247)");
        int shoff = checked((int)U64(40)), shentsize = U16(58), shnum = U16(60), shstrndx = U16(62);
        if (shoff <= 0 || shentsize < 64 || (long)shoff + (long)shnum * shentsize > bytes.Length) throw Bad("section headers out of the file");
        var raw = new (uint Name, uint Type, ulong Flags, ulong Off, ulong Size, uint Link, uint Info)[shnum];
        for (int i = 0; i < shnum; i++)
        {
            int h = shoff + i * shentsize;
            raw[i] = (U32(h), U32(h + 4), U64(h + 8), U64(h + 24), U64(h + 32), U32(h + 40), U32(h + 44));
        }
        if (shstrndx >= shnum) throw Bad("no section name table");
        var names = raw[shstrndx];
        var secs = new Section[shnum];
        for (int i = 0; i < shnum; i++)
        {
            var s = raw[i];
            if (s.Type != ShtNobits && s.Off + s.Size > (ulong)bytes.Length) throw Bad($"section {i} out of the file");
            secs[i] = new Section(i, Str((int)names.Off, (int)names.Size, s.Name), s.Type, s.Flags, (int)s.Off, (int)s.Size, (int)s.Link, (int)s.Info);
        }
        Sections = secs;
        var symtab = secs.FirstOrDefault(s => s.Type == ShtSymtab) ?? throw Bad("no symbol table");
        var strtab = secs[symtab.Link];
        var syms = new List<Symbol>();
        for (int off = symtab.Offset; off + 24 <= symtab.Offset + symtab.Size; off += 24)
        {
            byte info = bytes[off + 4];
            syms.Add(new Symbol(Str(strtab.Offset, strtab.Size, U32(off)), U16(off + 6), U64(off + 8), U64(off + 16), info & 0xF, info >> 4));
        }
        Symbols = syms;
    }

    public ReadOnlySpan<byte> Data(Section s) => s.Type == ShtNobits ? new byte[s.Size] : _b.AsSpan(s.Offset, s.Size);

    public Section? Find(string name) => Sections.FirstOrDefault(s => s.Name == name);

    /// <summary>The REL entries that apply to the section with index target.</summary>
    public IEnumerable<Rel> RelocationsFor(int target)
    {
        foreach (var s in Sections)
        {
            if (s.Type != ShtRel || s.Info != target) continue;
            for (int off = s.Offset; off + 16 <= s.Offset + s.Size; off += 16)
            {
                ulong info = U64(off + 8);
                yield return new Rel(U64(off), (int)(info >> 32), (uint)info);
            }
        }
    }

    public BpfLoadException Bad(string what) => new($"{_file}: {what}");

    private ushort U16(int o) => BinaryPrimitives.ReadUInt16LittleEndian(_b.AsSpan(o));
    private uint U32(int o) => BinaryPrimitives.ReadUInt32LittleEndian(_b.AsSpan(o));
    private ulong U64(int o) => BinaryPrimitives.ReadUInt64LittleEndian(_b.AsSpan(o));

    private string Str(int tableOff, int tableSize, uint at)
    {
        if (at >= tableSize) return "";
        var span = _b.AsSpan(tableOff + (int)at, tableSize - (int)at);
        int end = span.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? span : span[..end]);
    }
}
