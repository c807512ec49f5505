using PktFlow.Datapath;
using PktFlow.Wire;

namespace PktFlow.IPv4;

/// <summary>
/// ip_rt_send_redirect (net/ipv4/route.c): ip_forward calls it for a packet whose input route set
/// IPSKB_DOREDIRECT (it leaves by the device it came in on, towards a sender on that link). The
/// sender's inet_peer holds back redirects with an exponential backoff: the first is sent at once,
/// the next only when more than redirect_load &lt;&lt; n_redirects jiffies have passed since the last
/// one; after redirect_number of them none until redirect_silence jiffies pass without a redirect
/// being due, which starts the count again. A redirect counts when icmp_send is called, whatever
/// happens to it afterwards (nf_nat drops one about a NATed connection:
/// <see cref="Netfilter.NfNat.DropsRedirect"/>).
/// </summary>
public static class IpRtSendRedirect
{
    /// <summary>Defaults of the net.ipv4.route sysctls, in jiffies (HZ 250): HZ/50, 9, HZ/50 &lt;&lt; 10.</summary>
    private const int DefaultNumber = 9, DefaultLoad = IcmpRateLimit.Hz / 50, DefaultSilence = (IcmpRateLimit.Hz / 50) << (DefaultNumber + 1);

    [KernelSymbol("ip_rt_send_redirect", "net/ipv4/route.c")]
    public static void Send(SkBuff skb, TraceBuilder t, IpAddr source, IpAddr destination, IpAddr gateway)
    {
        var sys = skb.Netns.Sysctls;
        int number = IcmpRateLimit.ParseInt(sys.Get("net.ipv4.route.redirect_number"), DefaultNumber);
        long load = IcmpRateLimit.ParseInt(sys.Get("net.ipv4.route.redirect_load"), DefaultLoad);
        long silence = IcmpRateLimit.ParseInt(sys.Get("net.ipv4.route.redirect_silence"), DefaultSilence);
        var peers = skb.State.IcmpLimits.RedirectPeers;
        long now = IcmpRateLimit.Jiffies(skb.TimestampNs);
        // inet_getpeer: a new peer's rate_last is 60 s ago
        var (n, last) = peers.TryGetValue(source, out var p) ? p : (0, now - 60L * IcmpRateLimit.Hz);
        string what = $"ICMP redirect for host {destination} to gateway {gateway}, sent to {source}";
        if (now > last + silence) n = 0;
        if (n >= number)
        {
            Store(peers, source, (n, now), now, silence);
            t.Generate($"{what}: not sent (ip_rt_send_redirect: {n} redirects already sent to {source}, none until {silence} jiffies pass without one due)");
            return;
        }
        if (n != 0 && now <= last + (load << n))
        {
            t.Generate($"{what}: not sent (ip_rt_send_redirect: {source} had redirect {n} {now - last} jiffies ago, the next is due after {load << n})");
            return;
        }
        IcmpSend.Error(skb, t, IcmpSend.Redirect, IcmpSend.RedirectHost, gateway.V4Value, false, what);
        Store(peers, source, (n + 1, now), now, silence);
    }

    /// <summary>Keeps the table bounded: peers past the silence start from zero anyway.</summary>
    private static void Store(Dictionary<IpAddr, (int N, long Last)> peers, IpAddr source, (int, long) value, long now, long silence)
    {
        if (peers.Count >= 4096 && !peers.ContainsKey(source))
            foreach (var (k, v) in peers.ToList())
                if (now > v.Last + silence) peers.Remove(k);
        peers[source] = value;
    }
}
