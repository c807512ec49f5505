using System.Buffers.Binary;
using System.Text;

namespace PktFlow.Bpf;

/// <summary>
/// Map definitions of the BTF-defined kind (a `.maps` section, libbpf's __uint/__type macros): the
/// section bytes are zero and the attributes live in the types of .BTF (Documentation/bpf/btf.rst).
/// `__uint(name, N)` is a member `int (*name)[N]` (the array's nelems is N); `__type(key, T)` is a
/// member `T *key` (the key size is sizeof(T)). `__array(values, ...)` is a flexible array of
/// pointers whose initial slots are relocations in .rel.maps (a program array's programs): its byte
/// offset in the struct is returned with the definition. Only what a map definition needs is decoded.
/// </summary>
internal static class BpfBtfMaps
{
    private const int KindInt = 1, KindPtr = 2, KindArray = 3, KindStruct = 4, KindUnion = 5, KindEnum = 6, KindTypedef = 8,
        KindVolatile = 9, KindConst = 10, KindRestrict = 11, KindFuncProto = 13, KindVar = 14, KindDatasec = 15,
        KindDeclTag = 17, KindTypeTag = 18, KindEnum64 = 19;

    private readonly record struct BtfType(int Kind, string Name, uint SizeOrType, int DataOff, int Vlen);

    /// <summary>Map name -> definition (and the byte offset of its `values` member, if any) for every variable of the .maps DATASEC.</summary>
    public static Dictionary<string, (BpfMapDef Def, int? ValuesOffset)> Read(ReadOnlySpan<byte> btf, Func<string, BpfLoadException> bad)
    {
        if (btf.Length < 24 || BinaryPrimitives.ReadUInt16LittleEndian(btf) != 0xEB9F) throw bad(".BTF: bad magic");
        int hdrLen = (int)BinaryPrimitives.ReadUInt32LittleEndian(btf[4..]);
        int typeOff = hdrLen + (int)BinaryPrimitives.ReadUInt32LittleEndian(btf[8..]);
        int typeLen = (int)BinaryPrimitives.ReadUInt32LittleEndian(btf[12..]);
        int strOff = hdrLen + (int)BinaryPrimitives.ReadUInt32LittleEndian(btf[16..]);
        int strLen = (int)BinaryPrimitives.ReadUInt32LittleEndian(btf[20..]);
        if (typeOff + typeLen > btf.Length || strOff + strLen > btf.Length) throw bad(".BTF: sections out of range");
        var strs = btf.Slice(strOff, strLen);
        var types = new List<BtfType> { default }; // type id 0 is void
        int p = typeOff;
        while (p + 12 <= typeOff + typeLen)
        {
            uint nameOff = BinaryPrimitives.ReadUInt32LittleEndian(btf[p..]);
            uint info = BinaryPrimitives.ReadUInt32LittleEndian(btf[(p + 4)..]);
            uint st = BinaryPrimitives.ReadUInt32LittleEndian(btf[(p + 8)..]);
            int kind = (int)(info >> 24) & 0x1F, vlen = (int)(info & 0xFFFF);
            types.Add(new BtfType(kind, Str(strs, nameOff), st, p + 12, vlen));
            p += 12 + kind switch
            {
                KindInt or KindVar or KindDeclTag => 4,
                KindArray => 12,
                KindStruct or KindUnion or KindDatasec or KindEnum64 => vlen * 12,
                KindEnum or KindFuncProto => vlen * 8,
                _ => 0,
            };
        }
        var maps = new Dictionary<string, (BpfMapDef, int?)>();
        foreach (var sec in types.Where(t => t.Kind == KindDatasec && t.Name == ".maps"))
        {
            for (int i = 0; i < sec.Vlen; i++)
            {
                int varId = (int)BinaryPrimitives.ReadUInt32LittleEndian(btf[(sec.DataOff + i * 12)..]);
                var v = types[varId];
                var def = Strip(types, (int)v.SizeOrType);
                if (types[def].Kind != KindStruct) throw bad($".maps: {v.Name} is not a struct");
                var s = types[def];
                uint type = 0, keySize = 0, valueSize = 0, maxEntries = 0, pinning = 0;
                int? valuesOffset = null;
                for (int m = 0; m < s.Vlen; m++)
                {
                    int mo = s.DataOff + m * 12;
                    string name = Str(strs, BinaryPrimitives.ReadUInt32LittleEndian(btf[mo..]));
                    int mt = (int)BinaryPrimitives.ReadUInt32LittleEndian(btf[(mo + 4)..]);
                    if (name == "values")
                    {
                        // a flexible array of pointers (libbpf's __array): initial slots come from .rel.maps
                        if (types[Strip(types, mt)].Kind != KindArray) throw bad($".maps: {v.Name}.values is not __array()");
                        valuesOffset = (int)(BinaryPrimitives.ReadUInt32LittleEndian(btf[(mo + 8)..]) & 0xFFFFFF) / 8;
                        continue;
                    }
                    var ptr = types[Strip(types, mt)];
                    if (ptr.Kind != KindPtr) throw bad($".maps: {v.Name}.{name} is not a pointer");
                    int target = Strip(types, (int)ptr.SizeOrType);
                    uint? nelems = types[target].Kind == KindArray ? BinaryPrimitives.ReadUInt32LittleEndian(btf[(types[target].DataOff + 8)..]) : null;
                    uint Nelems() => nelems ?? throw bad($".maps: {v.Name}.{name} is not __uint()");
                    switch (name)
                    {
                        case "type": type = Nelems(); break;
                        case "max_entries": maxEntries = Nelems(); break;
                        case "key_size": keySize = Nelems(); break;
                        case "value_size": valueSize = Nelems(); break;
                        case "key": keySize = SizeOf(types, btf, target, bad); break;
                        case "value": valueSize = SizeOf(types, btf, target, bad); break;
                        case "map_flags": break;
                        case "pinning": pinning = Nelems(); break;
                        default: throw bad($".maps: {v.Name}: unsupported: map attribute {name}");
                    }
                }
                if (!BpfMapDef.IsModelledType(type)) throw bad($".maps: {v.Name}: unsupported: map type {type}");
                // LIBBPF_PIN_NONE 0, LIBBPF_PIN_BY_NAME 1 (enum libbpf_pin_type)
                if (pinning > 1) throw bad($".maps: {v.Name}: unsupported: pinning {pinning}");
                if (valuesOffset is not null && type != (uint)BpfMapType.ProgArray) throw bad($".maps: {v.Name}: unsupported: values of a map of type {type} (maps of maps)");
                // a program array's value is a program fd: libbpf defaults key and value to 4 bytes
                if (type == (uint)BpfMapType.ProgArray) { keySize = keySize == 0 ? 4 : keySize; valueSize = valueSize == 0 ? 4 : valueSize; }
                maps[v.Name] = (new BpfMapDef(v.Name, (BpfMapType)type, (int)keySize, (int)valueSize, (int)maxEntries) { Pinned = pinning == 1 }, valuesOffset);
            }
        }
        return maps;
    }

    private static int Strip(List<BtfType> types, int id)
    {
        for (int guard = 0; guard < 32 && id < types.Count && types[id].Kind is KindTypedef or KindVolatile or KindConst or KindRestrict or KindTypeTag; guard++)
            id = (int)types[id].SizeOrType;
        return id;
    }

    private static uint SizeOf(List<BtfType> types, ReadOnlySpan<byte> btf, int id, Func<string, BpfLoadException> bad)
    {
        id = Strip(types, id);
        var t = types[id];
        return t.Kind switch
        {
            KindInt or KindStruct or KindUnion or KindEnum or KindEnum64 => t.SizeOrType,
            KindPtr => 8,
            KindArray => BinaryPrimitives.ReadUInt32LittleEndian(btf[(t.DataOff + 8)..]) * SizeOf(types, btf, (int)BinaryPrimitives.ReadUInt32LittleEndian(btf[t.DataOff..]), bad),
            _ => throw bad($".BTF: cannot size type {id} (kind {t.Kind})"),
        };
    }

    private static string Str(ReadOnlySpan<byte> strs, uint off)
    {
        if (off >= strs.Length) return "";
        var s = strs[(int)off..];
        int end = s.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? s : s[..end]);
    }
}
