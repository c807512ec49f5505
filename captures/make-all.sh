#!/bin/bash
# Rebuild every capture in captures/ (each make.sh creates and deletes its own pfcap-* namespaces;
# they all use the namespace pfcap-host, so they run one after the other).
set -euo pipefail
cd "$(dirname "$0")"
rc=0
for d in local-delivery forwarding forwarding-disabled ipv6 malformed; do
    echo "== $d" >&2
    if ! timeout 600 "./$d/make.sh"; then
        echo "== $d FAILED" >&2
        rc=1
    fi
done
exit $rc
