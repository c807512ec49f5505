# shellcheck shell=bash
# Shared plumbing for captures/*/make.sh. Sourced, not run.
#
# Topology built by every scenario:
#   pfcap-host         the host under test; lab.sh is run inside it
#   pfcap-<sc>-pN      one peer namespace per host NIC (ethN); its end of the veth is called pN
#
# Everything is created with fixed MAC addresses and torn down by pf_cleanup (installed as an EXIT
# trap by pf_begin). Only namespaces whose name starts with "pfcap-" are ever touched.

set -euo pipefail

PF_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PF_PY=/usr/bin/python3            # Debian python3 (has python3-scapy)
PF_HOST=pfcap-host
PF_NAMESPACES=()
PF_PIDS=()

pf_log() { printf '[%s] %s\n' "${PF_SCENARIO:-pfcap}" "$*" >&2; }

pf_cleanup() {
    local pid ns
    for pid in "${PF_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PF_PIDS[@]}"; do
        timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null || true
    done
    PF_PIDS=()
    for ns in "${PF_NAMESPACES[@]}"; do
        [[ "$ns" == pfcap-* ]] || continue
        # servers a lab.sh started in the background (listening sockets) go with their namespace
        ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true
    done
    PF_NAMESPACES=()
}

# pf_begin SCENARIO : sets PF_SCENARIO / PF_DIR, removes leftovers of a previous run, installs the trap.
pf_begin() {
    PF_SCENARIO=$1
    PF_DIR=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
    PF_WORK=$(mktemp -d "/tmp/pfcap-$PF_SCENARIO.XXXXXX")
    trap 'pf_cleanup; rm -rf "$PF_WORK"' EXIT
    trap 'exit 130' INT TERM
    # leftovers of an interrupted run of this scenario (never anything without the pfcap- prefix)
    local ns
    for ns in $(ip netns list | awk '{print $1}'); do
        if [[ "$ns" == "$PF_HOST" || "$ns" == "pfcap-$PF_SCENARIO-"* ]]; then
            ip netns del "$ns"
        fi
    done
    local tool
    for tool in ip nstat nft tcpdump bpftrace timeout; do
        command -v "$tool" >/dev/null || { pf_log "missing $tool"; exit 1; }
    done
    "$PF_PY" -c 'import scapy' || { pf_log "missing python3-scapy (apt-get install python3-scapy)"; exit 1; }
    # drop reason names are read from the tracepoint format
    [[ -e /sys/kernel/tracing/events/skb/kfree_skb/format ]] || mount -t tracefs nodev /sys/kernel/tracing
    return 0
}

pf_ns() {
    ip netns add "$1"
    PF_NAMESPACES+=("$1")
    ip -n "$1" link set lo up
}

# pf_peer N PEERMAC [v6]
#   creates peer namespace pfcap-<sc>-pN and a veth pair: "ethN" in the host (left DOWN, with no
#   address: lab.sh configures it like a real NIC) and "pN" in the peer (up, MAC PEERMAC).
#   Without "v6" IPv6 is disabled on the peer end so that the peer kernel sends nothing on its own.
pf_peer() {
    local n=$1 mac=$2 v6=${3:-} ns="pfcap-$PF_SCENARIO-p$1"
    pf_ns "$ns"
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
        net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.all.router_solicitations=0
    if [[ -z "$v6" ]]; then
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    else
        # usable at once: no duplicate address detection for the peer's link-local address
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0
    fi
    ip -n "$PF_HOST" link add "eth$n" type veth peer name "p$n" netns "$ns"
    ip -n "$ns" link set "p$n" address "$mac"
    # The peer kernel must answer ARP / neighbour solicitations (so the host can resolve it) but must
    # not react to anything else the host sends (no RST for a SYN-ACK, ...). nftables netdev ingress
    # drops the rest; those drops show up in skb:kfree_skb as NETFILTER_DROP and are filtered out
    # (the host under test runs no netfilter rules).
    ip netns exec "$ns" nft -f - <<EOF
table netdev pfcap {
    chain in {
        type filter hook ingress device "p$n" priority 0; policy drop;
        meta protocol arp accept
        icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
    }
}
EOF
    ip -n "$ns" link set "p$n" up
}

# pf_peer_addr N ADDR/LEN [more...]   (nodad for v6: the peer must be quiet and usable at once)
pf_peer_addr() {
    local n=$1 ns="pfcap-$PF_SCENARIO-p$1" a
    shift
    for a in "$@"; do
        if [[ "$a" == *:* ]]; then
            ip -n "$ns" -6 addr add "$a" dev "p$n" nodad
        else
            ip -n "$ns" addr add "$a" dev "p$n"
        fi
    done
}

# pf_peer_neigh N ADDR MAC : permanent neighbour entry in the peer for one of the host's addresses,
# so that the peer kernel never probes the host (NUD DELAY/PROBE) in the middle of a capture.
pf_peer_neigh() {
    ip -n "pfcap-$PF_SCENARIO-p$1" neigh replace "$2" lladdr "$3" dev "p$1" nud permanent
}

pf_apply_lab() {
    pf_log "applying lab.sh in $PF_HOST"
    ip netns exec "$PF_HOST" bash -e "$PF_DIR/lab.sh"
}

# pf_settle N... : wait (bounded) until the host has no tentative IPv6 address and nothing has been
# seen on any peer end for 2.5 s (DAD, MLD reports are over).
pf_settle() {
    local deadline=$((SECONDS + 40)) n seen pids
    while ((SECONDS < deadline)); do
        if ip -n "$PF_HOST" -6 addr show tentative | grep -q inet6; then
            sleep 0.3
            continue
        fi
        pids=()
        for n in "$@"; do
            timeout 2.5 ip netns exec "pfcap-$PF_SCENARIO-p$n" tcpdump -c 1 -nni "p$n" \
                >"$PF_WORK/settle.$n" 2>/dev/null &
            pids+=($!)
        done
        wait "${pids[@]}" || true
        seen=$(cat "$PF_WORK"/settle.* | grep -c . || true)
        ((seen == 0)) && return 0
    done
    pf_log "host did not become quiet"
    return 1
}

# pf_bg CMD... : run a bounded background command, remember its pid for cleanup
pf_bg() {
    "$@" &
    PF_PIDS+=($!)
}

pf_snapshot() {
    local d="$PF_DIR/host-snapshot"
    rm -rf "$d"
    mkdir -p "$d"
    ip -n "$PF_HOST" -j -p link show >"$d/link.json"
    ip -n "$PF_HOST" -j -p addr show >"$d/addr.json"
    ip -n "$PF_HOST" -j -p route show table all >"$d/route.json"
    ip -n "$PF_HOST" -j -p -4 route show table all >"$d/route4.json"
    ip -n "$PF_HOST" -j -p -6 route show table all >"$d/route6.json"
    ip -n "$PF_HOST" -j -p rule show >"$d/rule.json"
    ip -n "$PF_HOST" -j -p -6 rule show >"$d/rule6.json"
    # the sysctls lab.sh may set, as the kernel reports them
    ip netns exec "$PF_HOST" sysctl -a 2>/dev/null |
        grep -E '^net\.ipv(4\.(ip_forward|icmp_|conf\.(all|default|eth[0-9]+)\.(forwarding|rp_filter|accept_local|route_localnet|send_redirects|accept_redirects|arp_|bc_forwarding|drop_))|6\.(conf\.(all|default|eth[0-9]+)\.(forwarding|accept_ra|disable_ipv6|accept_redirects)|icmp\.))' |
        sort >"$d/sysctl.txt"
}

# pf_drive : craft frames (PF_DIR/frames.py), send them one at a time, capture, write kernel.json.
#   PF_DRIVE_ARGS can add options to drive.py.
pf_drive() {
    PYTHONDONTWRITEBYTECODE=1 timeout 280 "$PF_PY" "$PF_LIB/drive.py" --scenario "$PF_SCENARIO" --dir "$PF_DIR" --work "$PF_WORK" \
        --host "$PF_HOST" --peer-prefix "pfcap-$PF_SCENARIO-p" "$@"
}
