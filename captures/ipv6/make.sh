#!/bin/bash
# Builds the ipv6 capture: pfcap-host (lab.sh, an IPv6 router) + peers on eth0 and eth1.
source "$(dirname "$0")/../lib/common.sh"
pf_begin ipv6

pf_ns "$PF_HOST"
pf_peer 0 02:00:00:00:03:02 v6
pf_peer 1 02:00:00:00:03:12 v6
pf_apply_lab
pf_peer_addr 0 2001:db8:1::2/64 2001:db8:1::3/64
pf_peer_addr 1 2001:db8:2::2/64
pf_peer_neigh 0 2001:db8:1::1 02:00:00:00:03:01
pf_peer_neigh 0 fe80::ff:fe00:301 02:00:00:00:03:01
pf_peer_neigh 1 2001:db8:2::1 02:00:00:00:03:11
pf_peer_neigh 1 fe80::ff:fe00:311 02:00:00:00:03:11
pf_settle 0 1
pf_snapshot
pf_drive
pf_log "done"
