#!/bin/bash
# Builds the malformed capture: pfcap-host (lab.sh) + one peer on eth0.
source "$(dirname "$0")/../lib/common.sh"
pf_begin malformed

pf_ns "$PF_HOST"
pf_peer 0 02:00:00:00:04:02 v6
pf_apply_lab
pf_peer_addr 0 10.1.0.2/24 2001:db8:1::2/64
pf_peer_neigh 0 2001:db8:1::1 02:00:00:00:04:01
pf_peer_neigh 0 fe80::ff:fe00:401 02:00:00:00:04:01
# a UDP socket on 5000 (for the bad-checksum datagram), bounded lifetime
for _ in $(seq 50); do
    ss -N "$PF_HOST" -lun | grep -q ':5000 ' && break
    sleep 0.1
done
pf_settle 0
pf_snapshot
pf_drive
pf_log "done"
