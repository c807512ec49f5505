#!/bin/bash
# Records the nft -j dumps the JSON equivalence test compares with the text (NftJsonEquivalenceTests):
# for every recorded scenario, the nft text each lab namespace is given is loaded into a fresh
# namespace (pfnj-rec), with dummy devices for the chains bound to one, and `nft -j list ruleset`
# is written to tests/PktFlow.Core.Tests/Netfilter/Nftables/Json/fixtures/scenarios/SCENARIO/NS.json.
#   sudo tests/Kernel/record-nft-json.sh        (needs dotnet, nft and ip; run from anywhere)
#   PFNJ_SCENARIO=NAME   only that scenario's dumps (the others are left as they are)
#   PFNJ_NS=NAME         the namespace to load into (default pfnj-rec), so parallel sessions do not collide
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT="$ROOT/tests/PktFlow.Core.Tests/Netfilter/Nftables/Json/fixtures/scenarios"
ART_ARGS=()
[[ -n ${PKTFLOW_ARTIFACTS:-} ]] && ART_ARGS=(--artifacts-path "$PKTFLOW_ARTIFACTS")   # where the tests were built, if not the default
NS=${PFNJ_NS:-pfnj-rec}
TEXT=$(mktemp -d /tmp/pfnj-text.XXXXXX)
cleanup() { ip netns del "$NS" 2>/dev/null || true; rm -rf "$TEXT"; }
trap cleanup EXIT

# 1. the text, as the lab loader reads it (the test writes it instead of checking when asked to)
PKTFLOW_WRITE_NFT_TEXT="$TEXT" dotnet test "$ROOT/tests/PktFlow.Core.Tests" "${ART_ARGS[@]}" --no-build \
    --filter 'FullyQualifiedName~NftJsonEquivalenceTests.JsonDumpLoadsToTheTextModel' >/dev/null

# 2. each text into a fresh namespace, then the dump
for file in "$TEXT"/*/*.nft; do
    scenario=$(basename "$(dirname "$file")"); lab_ns=$(basename "$file" .nft)
    [[ -n ${PFNJ_SCENARIO:-} && $scenario != "$PFNJ_SCENARIO" ]] && continue
    ip netns del "$NS" 2>/dev/null || true
    ip netns add "$NS"
    # netdev chains need their device to exist (device eth0 / device "eth0"), and so do netdev dup and
    # fwd statements (dup to "eth3"); no dummy module here: a veth
    n=0
    for dev in $({ grep -oE 'device "?[A-Za-z0-9_.-]+' "$file" | sed -E 's/device "?//'; grep -oE '(dup|fwd) to "[A-Za-z0-9_.-]+' "$file" | sed -E 's/.* to "//'; } | sort -u); do
        ip -n "$NS" link add "$dev" type veth peer name "pfnj-p$((n++))"   # the peer stays in this namespace
    done
    ip netns exec "$NS" nft -f "$file"
    mkdir -p "$OUT/$scenario"
    ip netns exec "$NS" nft -j list ruleset | python3 -m json.tool --indent 1 > "$OUT/$scenario/$lab_ns.json"
    echo "$scenario/$lab_ns.json"
done
