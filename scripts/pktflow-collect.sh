#!/bin/sh
# pktflow-collect.sh - write a PktFlow host snapshot: the kernel's own view of this host's network
# configuration and of every named network namespace, as iproute2, nft, iptables, ss and sysctl print
# it. The format is described in scripts/README.md; `Import-PktFlowTopology -Snapshot DIR` and
# SnapshotLoader.Load(DIR) read it.
#
# POSIX sh (runs under dash, busybox ash, bash). Read-only: it never changes the host's configuration.

set -u

usage() {
    cat <<'EOF'
Usage: pktflow-collect.sh [-o DIR] [-p PREFIX]... [-H] [-h]

Writes a snapshot of this host's network configuration for PktFlow: one folder per network
namespace (the namespace this script runs in as "host", then every namespace `ip netns list`
shows), with the JSON of `ip -j -d link`, `ip -j addr`, routes of every table, rules, neighbours,
bridge FDB and VLANs, the nftables ruleset, iptables-save, listening sockets and net.* sysctls,
plus manifest.txt (hostname, kernel, date, tool versions, what was skipped or failed).

  -o, --output DIR   where to write (default: ./pktflow-snapshot-HOSTNAME-UTCDATE); DIR must not
                     exist or be empty
  -p, --prefix P     only named namespaces whose name starts with P (repeatable: any of them)
  -H, --no-host      leave out the namespace the script runs in (useful with -p on shared machines)
  -h, --help         this text

Run as root to read other namespaces and the firewall. A tool that is not installed is skipped and
named in the manifest; a command that fails is named in the manifest and on stderr, and the exit
status is 2. Exit status: 0 complete, 1 usage or setup error (nothing useful written), 2 snapshot
written but some commands failed.
EOF
}

die() { printf 'pktflow-collect: %s\n' "$*" >&2; exit 1; }

out=""
prefixes=""
with_host=1
while [ $# -gt 0 ]; do
    case $1 in
        -o|--output) [ $# -ge 2 ] || die "$1 needs a directory"; out=$2; shift 2 ;;
        -p|--prefix) [ $# -ge 2 ] || die "$1 needs a prefix"; prefixes="$prefixes$2
"; shift 2 ;;
        -H|--no-host) with_host=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument '$1'" ;;
    esac
done

command -v ip >/dev/null 2>&1 || die "ip (iproute2) is required"

host=$(hostname 2>/dev/null || uname -n)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
[ -n "$out" ] || out="./pktflow-snapshot-$host-$stamp"
if [ -e "$out" ]; then
    [ -d "$out" ] || die "$out exists and is not a directory"
    [ -z "$(ls -A "$out")" ] || die "$out exists and is not empty"
fi
mkdir -p "$out" || die "cannot create $out"
manifest="$out/manifest.txt"
work=$(mktemp -d "${TMPDIR:-/tmp}/pktflow-collect.XXXXXX") || die "cannot create a temporary directory"
trap 'rm -rf "$work"' EXIT
trap 'echo "interrupted: signal" >>"$manifest"; exit 130' INT TERM HUP

failures=0
files=0
skips=0

note() { printf '%s\n' "$*" >>"$manifest"; }

# matches NAME: true when no prefix was given or NAME starts with one of them
matches() {
    [ -z "$prefixes" ] && return 0
    _rest=$prefixes
    while [ -n "$_rest" ]; do
        _p=${_rest%%
*}
        _rest=${_rest#*
}
        case $1 in "$_p"*) return 0 ;; esac
    done
    return 1
}

# in_ns NS CMD...: CMD in namespace NS ("" is the namespace this script runs in)
in_ns() {
    _ns=$1
    shift
    case $1 in
        net_sysctls) net_sysctls "$_ns" ;;
        tc_filters) tc_filters "$_ns" ;;
        *) if [ -z "$_ns" ]; then "$@"; else ip netns exec "$_ns" "$@"; fi ;;
    esac
}

# net_sysctls NS: `sysctl -a` of namespace NS restricted to net.* (a pipeline would hide the exit status)
net_sysctls() {
    in_ns "$1" sysctl -a >"$work/sysctl" || return
    grep '^net\.' "$work/sysctl" || true
}

# tc_filters NS: `tc filter show` of both clsact directions of every device of NS, each under a
# "dev DEV ingress|egress" line (tc filter show needs a device)
tc_filters() {
    in_ns "$1" ip -o link show >"$work/tclinks" || return
    for _d in $(sed -n 's/^[0-9]*: \([^:@ ]*\)[:@].*/\1/p' "$work/tclinks"); do
        for _dir in ingress egress; do
            printf 'dev %s %s\n' "$_d" "$_dir"
            in_ns "$1" tc filter show dev "$_d" "$_dir" || return
        done
    done
}

# have TOOL: true when TOOL is installed (checked once, reported once in the manifest)
have() {
    command -v "$1" >/dev/null 2>&1
}

# grab NS FOLDER FILE TOOL CMD...: CMD's standard output becomes FOLDER/FILE. A missing tool is a
# "skipped:" line, a failing command a "failed:" line (the partial output is removed).
grab() {
    _ns=$1 _folder=$2 _file=$3 _tool=$4
    shift 4
    if ! have "$_tool"; then
        note "skipped: $_folder/$_file: $_tool not installed"
        skips=$((skips + 1))
        return 0
    fi
    if in_ns "$_ns" "$@" >"$out/$_folder/$_file" 2>"$work/err"; then
        files=$((files + 1))
    else
        _rc=$?
        rm -f "$out/$_folder/$_file"
        _why=$(head -n 1 "$work/err")
        note "failed: $_folder/$_file: exit $_rc: $*: ${_why:-no message}"
        printf 'pktflow-collect: %s/%s: %s failed (exit %s): %s\n' "$_folder" "$_file" "$*" "$_rc" "${_why:-no message}" >&2
        failures=$((failures + 1))
    fi
}

# collect NS FOLDER: every file of one namespace
collect() {
    _cns=$1 _cf=$2
    mkdir -p "$out/$_cf" || die "cannot create $out/$_cf"
    note "namespace: $_cf"
    grab "$_cns" "$_cf" link.json ip ip -j -p -d link show
    grab "$_cns" "$_cf" addr.json ip ip -j -p addr show
    grab "$_cns" "$_cf" route4.json ip ip -j -p -4 route show table all
    grab "$_cns" "$_cf" route6.json ip ip -j -p -6 route show table all
    # the same routes as text: `ip -j` leaves out which metrics are locked (`mtu lock 1300`)
    grab "$_cns" "$_cf" route4.txt ip ip -4 route show table all
    grab "$_cns" "$_cf" route6.txt ip ip -6 route show table all
    grab "$_cns" "$_cf" rule4.json ip ip -j -p -4 rule show
    grab "$_cns" "$_cf" rule6.json ip ip -j -p -6 rule show
    grab "$_cns" "$_cf" nexthop.json ip ip -j -p nexthop show
    grab "$_cns" "$_cf" neigh.json ip ip -j -p neigh show
    # proxy entries only come with `show proxy` (iproute2 asks for NTF_PROXY only then)
    grab "$_cns" "$_cf" neigh-proxy.json ip ip -j -p neigh show proxy
    grab "$_cns" "$_cf" fdb.json bridge bridge -j -p fdb show
    grab "$_cns" "$_cf" vlan.json bridge bridge -j -p vlan show
    grab "$_cns" "$_cf" nft.json nft nft -j list ruleset
    grab "$_cns" "$_cf" tc-qdisc.json tc tc -j qdisc show
    grab "$_cns" "$_cf" tc-filter.txt tc tc_filters
    grab "$_cns" "$_cf" iptables.txt iptables-save iptables-save
    grab "$_cns" "$_cf" ip6tables.txt ip6tables-save ip6tables-save
    grab "$_cns" "$_cf" ipset.txt ipset ipset save
    grab "$_cns" "$_cf" ss.txt ss ss -tulnHe
    grab "$_cns" "$_cf" ss-connected.txt ss ss -tunHe
    grab "$_cns" "$_cf" sysctl.txt sysctl net_sysctls
}

version() {
    if have "$1"; then
        _v=$("$@" 2>&1 | head -n 1)
        note "tool: $1: ${_v:-unknown version}"
    else
        note "tool: $1: not installed"
    fi
}

note "# PktFlow host snapshot written by scripts/pktflow-collect.sh; format in scripts/README.md"
note "format: 1"
note "hostname: $host"
note "kernel: $(uname -srvm)"
note "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
note "uid: $(id -u)"
if [ -n "$prefixes" ]; then
    note "prefixes: $(printf '%s' "$prefixes" | tr '\n' ' ' | sed 's/ $//')"
fi
[ "$with_host" = 1 ] || note "host: left out (-H)"
version ip -V
version bridge -V
version nft -v
version iptables-save --version
version ip6tables-save --version
version ipset version
version ss -V
version sysctl --version

# The iproute2 table names, so a route listed with "table NAME" can be mapped back to its id.
: >"$out/rt_tables.txt"
for f in /etc/iproute2/rt_tables /etc/iproute2/rt_tables.d/*.conf /usr/share/iproute2/rt_tables \
         /usr/share/iproute2/rt_tables.d/*.conf /usr/lib/iproute2/rt_tables /usr/lib/iproute2/rt_tables.d/*.conf; do
    [ -f "$f" ] && grep -v '^[[:space:]]*\(#\|$\)' "$f" >>"$out/rt_tables.txt"
done

# `ip netns list` prints "NAME" or "NAME (id: N)".
if ! ip netns list >"$work/netns" 2>"$work/err"; then
    note "failed: ip netns list: $(head -n 1 "$work/err")"
    failures=$((failures + 1))
    : >"$work/netns"
fi
sed 's/ (id: [0-9-]*)$//' "$work/netns" | sort >"$work/names"

if [ "$with_host" = 1 ]; then
    grep -qx 'host' "$work/names" && matches host &&
        die "a named namespace is called 'host', the folder of the namespace this script runs in; use -H"
    collect "" host
fi
while IFS= read -r ns; do
    [ -n "$ns" ] || continue
    matches "$ns" || continue
    case $ns in */*|.|..) note "failed: namespace '$ns': not usable as a folder name"; failures=$((failures + 1)); continue ;; esac
    collect "$ns" "$ns"
done <"$work/names"

# Namespace ids last: the kernel assigns a peer namespace its id when a link dump first needs it,
# so only now does every namespace know the ids its veths' link_netnsid refer to.
if [ "$with_host" = 1 ]; then grab "" host netns.json ip ip -j -p netns list-id; fi
while IFS= read -r ns; do
    if [ -n "$ns" ] && matches "$ns" && [ -d "$out/$ns" ]; then
        grab "$ns" "$ns" netns.json ip ip -j -p netns list-id
    fi
done <"$work/names"

note "complete: $files files, $skips skipped, $failures failed"
if [ "$failures" -gt 0 ]; then
    printf 'pktflow-collect: %s written, but %s command(s) failed (see %s)\n' "$out" "$failures" "$manifest" >&2
    exit 2
fi
printf 'pktflow-collect: wrote %s\n' "$out" >&2
exit 0
