#!/bin/bash
# Builds the forwarding-disabled capture: pfcap-host (lab.sh, ip_forward=0) + peers on eth0, eth1, eth2.
source "$(dirname "$0")/../lib/common.sh"
pf_begin forwarding-disabled

pf_ns "$PF_HOST"
pf_peer 0 02:00:00:00:02:02
pf_peer 1 02:00:00:00:02:12
pf_peer 2 02:00:00:00:02:22
pf_apply_lab
pf_peer_addr 0 10.1.0.2/24 10.1.0.3/24 10.1.0.11/24 10.1.0.12/24 10.1.0.13/24 10.1.0.14/24 10.1.0.15/24
pf_peer_addr 1 10.2.0.2/24
pf_peer_addr 2 10.3.0.2/24
pf_settle 0 1 2
pf_snapshot
pf_drive
pf_log "done"
