using System.Text;

namespace PktFlow.Bpf;

/// <summary>
/// bpf_trace_printk(fmt, fmt_size, a, b, c) (kernel/trace/bpf_trace.c): the line goes to the trace
/// pipe; the model keeps it as a note of the run. The kernel accepts %d %i %u %x %ld %lu %lx %lld
/// %llu %llx %p %s %c and %% with up to three arguments; anything else makes it return -EINVAL.
/// </summary>
internal static class BpfTracePrintk
{
    public static ulong Call(BpfVm vm, ulong fmtPtr, ulong fmtSize, ulong a1, ulong a2, ulong a3)
    {
        var fmt = vm.Bytes(fmtPtr, (int)Math.Min(fmtSize, 1024), false, "fmt");
        if (fmt.IsEmpty) return 0;
        int end = fmt.IndexOf((byte)0);
        if (end < 0) return unchecked((ulong)-22L); // the format must be NUL terminated inside fmt_size
        var text = Format(vm, Encoding.ASCII.GetString(fmt[..end]), [a1, a2, a3]);
        if (text is null) return unchecked((ulong)-22L);
        vm.Note(text.TrimEnd('\n'));
        return (ulong)text.Length;
    }

    private static string? Format(BpfVm vm, string fmt, ulong[] args)
    {
        var sb = new StringBuilder();
        int next = 0;
        for (int i = 0; i < fmt.Length; i++)
        {
            char c = fmt[i];
            if (c != '%') { sb.Append(c); continue; }
            if (++i >= fmt.Length) return null;
            if (fmt[i] == '%') { sb.Append('%'); continue; }
            int longs = 0;
            while (i < fmt.Length && fmt[i] == 'l') { longs++; i++; }
            if (i >= fmt.Length || next >= args.Length || longs > 2) return null;
            ulong v = args[next++];
            if (longs == 0) v = fmt[i] is 'd' or 'i' ? (ulong)(int)v : (uint)v;
            switch (fmt[i])
            {
                case 'd' or 'i': sb.Append((long)v); break;
                case 'u': sb.Append(v); break;
                case 'x': sb.Append(v.ToString("x")); break;
                case 'p': sb.Append("0x").Append(v.ToString("x")); break;
                case 'c': sb.Append((char)(byte)v); break;
                case 's':
                    var s = vm.Bytes(v, 1, false, "%s");
                    if (s.IsEmpty) return null;
                    var sb2 = new StringBuilder();
                    for (ulong a = v; sb2.Length < 256; a++)
                    {
                        var b = vm.Bytes(a, 1, false, "%s");
                        if (b.IsEmpty || b[0] == 0) break;
                        sb2.Append((char)b[0]);
                    }
                    sb.Append(sb2);
                    break;
                default: return null;
            }
        }
        return sb.ToString();
    }
}
