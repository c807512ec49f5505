namespace PktFlow.Netfilter.Nftables;

/// <summary>
/// nft's synproxy: the statement <c>synproxy [mss N] [wscale N] [timestamp] [sack-perm]</c>, the named
/// object <c>synproxy NAME { mss N; wscale N; timestamp sack-perm }</c> used by <c>synproxy name NAME</c>
/// or through an object map (<c>synproxy name tcp dport map { 80 : "web" }</c>). nft_synproxy_validate
/// lets it run in input and forward chains only.
/// </summary>
internal sealed partial class NftParser
{
    /// <summary>The words after <c>synproxy</c> (statement) or inside a synproxy object's braces.</summary>
    private static SynproxyInfo SynproxyOf(IReadOnlyList<NftTok> words, NftTok at)
    {
        var options = SynproxyOptions.None;
        ushort mss = 0; byte wscale = 0;
        for (int i = 0; i < words.Count; i++)
        {
            var w = words[i];
            switch (w.Text)
            {
                case "mss":
                    if (i + 1 >= words.Count || !ushort.TryParse(words[i + 1].Text, out mss)) throw Err(i + 1 < words.Count ? words[i + 1] : w, "synproxy: mss needs a number up to 65535");
                    options |= SynproxyOptions.Mss; i++;
                    break;
                case "wscale":
                    // nft 1.0.6 and 6.18 take any byte (wscale 15 loads): the SYN-ACK then offers it
                    if (i + 1 >= words.Count || !byte.TryParse(words[i + 1].Text, out wscale)) throw Err(i + 1 < words.Count ? words[i + 1] : w, "synproxy: wscale needs a number up to 255");
                    options |= SynproxyOptions.Wscale; i++;
                    break;
                case "timestamp": options |= SynproxyOptions.Timestamp; break;
                case "sack-perm": options |= SynproxyOptions.SackPerm; break;
                default: throw Err(w, $"syntax error, unexpected '{w.Text}' in synproxy (mss, wscale, timestamp, sack-perm)");
            }
        }
        return new SynproxyInfo(options, mss, wscale);
    }

    /// <summary>A synproxy object's body: nft's grammar (synproxy_config) and its JSON reader want both mss and wscale.</summary>
    private static SynproxyInfo SynproxyObject(IReadOnlyList<NftTok> words, NftTok name)
    {
        var info = SynproxyOf(words, name);
        if ((info.Options & (SynproxyOptions.Mss | SynproxyOptions.Wscale)) != (SynproxyOptions.Mss | SynproxyOptions.Wscale))
            throw Err(name, $"syntax error, synproxy '{name.Text}' needs mss and wscale");
        return info;
    }

    /// <summary>The statement: <c>synproxy name ...</c> (an object or an object map) or the options inline.</summary>
    private NftStmt Synproxy(NftChain ch)
    {
        var at = Take();
        SynproxyHooks(ch, at);
        if (TakeIf("name")) return ObjectRef("synproxy");
        var words = new List<NftTok>();
        // nft 1.0.6 has no ecn here (a syntax error): only xt's SYNPROXY --ecn sets it, and nft lists that rule with it
        while (More && Cur.Text is "mss" or "wscale" or "timestamp" or "sack-perm")
        {
            var w = Take();
            words.Add(w);
            if (w.Text is "mss" or "wscale" && More) words.Add(Take());
        }
        return new SynproxyStmt { Info = SynproxyOf(words, at) };
    }

    /// <summary>nft_synproxy_validate: ip, ip6 and inet tables, input and forward hooks (the kernel's EOPNOTSUPP).</summary>
    private void SynproxyHooks(NftChain ch, NftTok at)
    {
        if (ch.Table.Family is not (NftFamily.Ip or NftFamily.Ip6 or NftFamily.Inet))
            throw Err(at, $"Could not process rule: Operation not supported (synproxy is for ip, ip6 and inet tables, not {NftNames.Family(ch.Table.Family)})");
        if (ch.Hook is { } hook && hook is not (NftHookPoint.Input or NftHookPoint.Forward))
            throw Err(at, $"Could not process rule: Operation not supported (synproxy runs in input and forward chains only, not {hook.ToString().ToLowerInvariant()})");
    }
}

/// <summary>
/// nft_synproxy_do_eval / nft_synproxy_eval_v4 / _v6: not TCP, the rule stops (NFT_BREAK); a header that
/// cannot be read or whose options cannot be (synproxy_parse_options) is dropped; a SYN is stolen (answered
/// with a cookie SYN-ACK); an ACK is stolen when its cookie is valid (the connection to the server is
/// opened), else dropped; any other segment goes on to the next statement. <see cref="Xt"/>: xt's SYNPROXY
/// target (synproxy_tg4 / synproxy_tg6, iptables-nft's compat target), which takes only a SYN without ACK,
/// FIN or RST and an ACK without SYN, FIN or RST, and lets every other segment continue (XT_CONTINUE).
/// What is sent is the datapath's (<see cref="NfSynproxy"/>). Before anything else the TCP checksum is
/// verified (nf_ip_checksum / nf_ip6_checksum on skb->ip_summed, <see cref="Offload.SkbChecksum"/>): a bad
/// one is NF_DROP (scenario bad-checksum: a SYN with a wrong checksum gets no cookie). nft's statement calls
/// nf_ip_checksum for IPv6 too, which fails a CHECKSUM_NONE segment (<see cref="NfSynproxy.ChecksumCheck"/>).
/// </summary>
internal sealed class SynproxyStmt : NftStmt
{
    public SynproxyInfo Info = null!;
    public bool Xt;

    public override bool Eval(NftEvalCtx c)
    {
        if (c.P.L4Protocol != Wire.IpProtocol.Tcp || c.P.TransportOffset < 0) return false;
        if (c.P.SynproxyChecksumBad(Xt))
        {
            c.Verdict = NftVerdict.Drop; // nf_ip_checksum: NF_DROP
            c.Synproxy = Info;
            return true;
        }
        var n = c.P.Network;
        int th = c.P.TransportOffset;
        if (n.Length < th + 20)
        {
            c.Verdict = NftVerdict.Drop; // skb_header_pointer fails: NF_DROP
            return true;
        }
        byte flags = n[th + 13];
        if (!NfSynproxy.ParseOptions(n[th..], out _))
        {
            c.Verdict = NftVerdict.Drop;
            c.Synproxy = Info;
        }
        else if (Xt ? (flags & 0x17) == 0x02 : (flags & 0x02) != 0)
        {
            c.Verdict = NftVerdict.Stolen;
            c.Synproxy = Info;
        }
        else if (Xt ? (flags & 0x17) == 0x10 : (flags & 0x10) != 0)
        {
            c.Verdict = c.P.SynproxyCookieValid ? NftVerdict.Stolen : NftVerdict.Drop;
            c.Synproxy = Info;
        }
        return true;
    }
}
