using System.Globalization;

namespace PktFlow.Netfilter.Nftables;

internal enum MetaTimeKey { Time, Day, Hour }

/// <summary>
/// nft_meta_get_eval's clock keys, read at the packet's capture time (the wall clock of the host that
/// captured it): <c>meta time</c> (ktime_get_real_ns), <c>meta day</c> (nft_meta_weekday: days since
/// the epoch plus Thursday, mod 7) and <c>meta hour</c> (nft_meta_hour: seconds since midnight). The
/// kernel keeps UTC unless sys_tz is set; nft turns the dates and hours it is given from its local time
/// into UTC. The model takes both as UTC (a host whose timezone is UTC; checked with nft 1.0.6 under
/// TZ=UTC): a ruleset written on a host in another zone compares against shifted times.
/// </summary>
internal sealed class MetaTimeSelector : NftSelector
{
    public readonly MetaTimeKey Key;
    public MetaTimeSelector(MetaTimeKey key) { Key = key; }
    public override NftType Type => Key switch { MetaTimeKey.Time => NftType.Date, MetaTimeKey.Day => NftType.Day, _ => NftType.Hour };
    public override bool HostOrder => true;

    private const long NsPerSecond = 1_000_000_000, SecondsPerDay = 86_400;

    public override bool Load(NftEvalCtx c, Span<byte> d)
    {
        long ns = c.State.NowNs;
        long secs = Math.DivRem(ns, NsPerSecond, out long rem) - (rem < 0 ? 1 : 0);
        ulong v = Key switch
        {
            MetaTimeKey.Time => (ulong)ns,
            MetaTimeKey.Day => (ulong)(((4 + Math.DivRem(secs - (secs < 0 ? SecondsPerDay - 1 : 0), SecondsPerDay).Quotient) % 7 + 7) % 7),
            _ => (ulong)(((secs % SecondsPerDay) + SecondsPerDay) % SecondsPerDay),
        };
        for (int i = Length - 1; i >= 0; i--) { d[i] = (byte)v; v >>= 8; }
        return true;
    }

    /// <summary>
    /// A date (<c>"2019-06-21 17:00:00"</c>, <c>"2019-06-21 17:00"</c>, <c>"2019-06-21"</c>, or seconds since
    /// the epoch) as nanoseconds, or an hour (<c>"17:00"</c>, <c>"17:00:01"</c>) as seconds since midnight;
    /// null when it is not one.
    /// </summary>
    internal static ulong? Parse(NftTypeKind kind, string w)
    {
        if (kind == NftTypeKind.Hour)
        {
            var p = w.Split(':');
            if (p.Length is < 2 or > 3 || !p.All(x => x.Length is 1 or 2 && x.All(char.IsAsciiDigit))) return null;
            int h = int.Parse(p[0], CultureInfo.InvariantCulture), m = int.Parse(p[1], CultureInfo.InvariantCulture), s = p.Length == 3 ? int.Parse(p[2], CultureInfo.InvariantCulture) : 0;
            return h < 24 && m < 60 && s < 60 ? (ulong)(h * 3600 + m * 60 + s) : null;
        }
        if (w.All(char.IsAsciiDigit) && w.Length > 0)
            return ulong.TryParse(w, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= ulong.MaxValue / NsPerSecond ? n * NsPerSecond : null;
        string[] formats = { "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd" };
        if (!DateTime.TryParseExact(w, formats, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t)) return null;
        long ticks = t.Ticks - DateTime.UnixEpoch.Ticks;
        return ticks < 0 ? null : (ulong)ticks * 100;
    }
}
