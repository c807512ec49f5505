namespace PktFlow.Netfilter.Iptables;

public static partial class IptablesRestore
{
    /// <summary>
    /// <c>-m connbytes [!] --connbytes FROM[:TO] --connbytes-dir original|reply|both --connbytes-mode
    /// packets|bytes|avgpkt</c> (libxt_connbytes, xt_connbytes). iptables-nft keeps it an xtables compat
    /// match; nft 1.0.6 lists its translation (<c>ct original packets 3-10</c>, <c>ct bytes ge 100</c>,
    /// <c>ct reply avgpkt != 5-7</c>), and the model evaluates that: xt_connbytes reads the same
    /// nf_conn_acct counters as nft's ct expression (both directions summed for "both", avgpkt bytes over
    /// packets, 0 without packets; no conntrack: no match), and loading it turns accounting on
    /// (connbytes_mt_check -> nf_ct_set_acct). Checked on 6.18 with iptables-nft 1.8.9.
    /// </summary>
    private sealed class ConnbytesMatch
    {
        private ulong _from, _to = ulong.MaxValue;
        private bool _count;
        private string? _dir, _mode;

        /// <summary>One option of the match; false if it is not connbytes'.</summary>
        public bool Option(string o, Func<string> value, bool negated, Func<string, string, IptablesParseException> E)
        {
            switch (o)
            {
                case "--connbytes":
                {
                    var v = value();
                    int colon = v.IndexOf(':');
                    string f = colon < 0 ? v : v[..colon], t = colon < 0 ? "" : v[(colon + 1)..];
                    ulong Num(string s, ulong empty) => s.Length == 0 ? empty : ulong.TryParse(s, out var n) ? n
                        : throw E(v, $"connbytes: bad value for option \"--connbytes\" near \"{s}\", or out of range (0-18446744073709551615).");
                    _from = Num(f, 0); _to = Num(t, ulong.MaxValue);
                    if (_from > _to) throw E(v, $"{_from} should be less than {_to}");
                    // libxt_connbytes stores a negated range swapped: xt_connbytes then matches outside it
                    if (negated) (_from, _to) = (_to, _from);
                    _count = true;
                    return true;
                }
                case "--connbytes-dir":
                    _dir = value();
                    if (_dir is not ("original" or "reply" or "both")) throw E(_dir, $"Unknown --connbytes-dir `{_dir}'");
                    return true;
                case "--connbytes-mode":
                    _mode = value();
                    if (_mode is not ("packets" or "bytes" or "avgpkt")) throw E(_mode, $"Unknown --connbytes-mode `{_mode}'");
                    return true;
            }
            return false;
        }

        /// <summary>What nft lists (libxt_connbytes' xlate) and what the model evaluates.</summary>
        public (string Printed, string Eval) Translate(Func<string, string, IptablesParseException> E)
        {
            if (!_count) throw E("connbytes", "connbytes: option \"--connbytes\" must be specified");
            if (_dir is null) throw E("connbytes", "connbytes: option \"--connbytes-dir\" must be specified");
            if (_mode is null) throw E("connbytes", "connbytes: option \"--connbytes-mode\" must be specified");
            string key = $"ct {(_dir == "both" ? "" : _dir + " ")}{_mode}";
            bool invert = _from > _to;
            var (lo, hi) = invert ? (_to, _from) : (_from, _to);
            // xt_connbytes: from <= to matches from..to; a swapped (negated) range matches below to or above from
            if (lo == hi) return ($"{key} {(invert ? "!= " : "")}{lo}", $"{key} {(invert ? "!= " : "")}{lo}");
            if (hi == ulong.MaxValue) return ($"{key} {(invert ? "lt" : "ge")} {lo}", $"{key} {(invert ? "<" : ">=")} {lo}");
            var range = $"{key} {(invert ? "!= " : "")}{lo}-{hi}";
            return (range, range);
        }
    }
}
