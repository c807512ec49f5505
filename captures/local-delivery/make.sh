#!/bin/bash
# Builds the local-delivery capture: pfcap-host (lab.sh) + one peer on eth0.
source "$(dirname "$0")/../lib/common.sh"
pf_begin local-delivery

pf_ns "$PF_HOST"
pf_peer 0 02:00:00:00:01:02
pf_apply_lab
pf_peer_addr 0 10.1.0.2/24
# lab.sh starts the host sockets (TCP listener on 8080, UDP receiver on 5000); wait for them
for _ in $(seq 50); do
    ss -N "$PF_HOST" -ltn | grep -q ':8080 ' && ss -N "$PF_HOST" -lun | grep -q ':5000 ' && break
    sleep 0.1
done
pf_settle 0
pf_snapshot
pf_drive
pf_log "done: $(ls "$PF_DIR")"
