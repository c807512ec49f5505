using PktFlow.Datapath;

namespace PktFlow.IPv4;

/// <summary>
/// ip_options_compile for received packets (net/ipv4/ip_options.c): walks the option list and finds
/// what RFC 791 forbids. A bad option drops the packet with IP_INHDR and an ICMP parameter problem
/// pointing at the offending byte. Unknown options are ignored, as the kernel ignores them.
/// </summary>
public static class IpOptions
{
    public const byte End = 0, Noop = 1, RecordRoute = 7, Timestamp = 68, Lsrr = 131, Ssrr = 137, RouterAlert = 148;

    private static string Bad(out int pointer, int at, string what)
    {
        pointer = 20 + at;
        return $"bad IPv4 option: {what}";
    }

    /// <summary>Null when the options are acceptable; else what is wrong and the pointer (offset in the IP header).</summary>
    [KernelSymbol("ip_options_compile", "net/ipv4/ip_options.c")]
    public static string? Problem(ReadOnlySpan<byte> options, out int pointer, out bool sourceRoute)
    {
        pointer = 0;
        sourceRoute = false;
        bool rr = false, ts = false;
        int i = 0;
        while (i < options.Length)
        {
            byte kind = options[i];
            if (kind == End) return null;
            if (kind == Noop) { i++; continue; }
            int left = options.Length - i;
            if (left < 2) return Bad(out pointer, i, $"option {kind} has no length byte");
            int len = options[i + 1];
            if (len < 2 || len > left) return Bad(out pointer, i, $"option {kind} length {len} runs past the header ({left} bytes left)");
            switch (kind)
            {
                case Lsrr or Ssrr:
                    if (len < 3) return Bad(out pointer, i + 1, $"source route option length {len} < 3");
                    if (options[i + 2] < 4) return Bad(out pointer, i + 2, $"source route pointer {options[i + 2]} < 4");
                    if (sourceRoute) return Bad(out pointer, i, "two source route options");
                    sourceRoute = true;
                    break;
                case RecordRoute:
                    if (rr) return Bad(out pointer, i, "two record route options");
                    if (len < 3) return Bad(out pointer, i + 1, $"record route length {len} < 3");
                    if (options[i + 2] < 4) return Bad(out pointer, i + 2, $"record route pointer {options[i + 2]} < 4");
                    if (options[i + 2] <= len && options[i + 2] + 3 > len) return Bad(out pointer, i + 2, "record route pointer leaves no room for an address");
                    rr = true;
                    break;
                case Timestamp:
                    if (ts) return Bad(out pointer, i, "two timestamp options");
                    if (len < 4) return Bad(out pointer, i + 1, $"timestamp length {len} < 4");
                    if (options[i + 2] < 5) return Bad(out pointer, i + 2, $"timestamp pointer {options[i + 2]} < 5");
                    ts = true;
                    break;
                case RouterAlert:
                    if (len < 4) return Bad(out pointer, i + 1, $"router alert length {len} < 4");
                    break;
            }
            i += len;
        }
        return null;
    }
}
