# UDP to 7777 is redirected to the server (closed port: ICMP port unreachable, routed back by the
# host); so is one of 1004 bytes (IP), within eth1's MTU + hard_header_len + VLAN_HLEN, but not one of
# 1005 (xdp_ok_fwd_dev: -EMSGSIZE). 7778 (eth2, whose peer has no NAPI) and 7779 (br0) are refused
# by xdp_do_redirect (-EOPNOTSUPP). 7780 goes back to the client (XDP_TX), whose program passes it
# to its closed port (ICMP port unreachable to the host). 7781 hits the devmap's slot 0 (the server),
# 7782 misses slot 1 (XDP_DROP). 7783 goes to eth3: a short frame reaches small (not its MAC:
# dropped as another host's), one of 1100 bytes (IP) is more than small's eth0 takes (veth_xdp_xmit
# drops it at the flush). A ping to the server is routed by the stack.
F='Ether(src="02:00:00:00:01:02",dst="02:00:00:00:01:01")/IP(src="10.1.0.2",dst="10.2.0.2")/UDP(sport=40001,dport='
ip netns exec client sendframe eth0 "${F}7777)/Raw(b'redirect')" "${F}7777)/Raw(b'x' * 976)" "${F}7777)/Raw(b'y' * 977)" \
    "${F}7778)/Raw(b'nonapi')" "${F}7779)/Raw(b'bridge')" \
    'Ether(src="02:00:00:00:01:02",dst="02:00:00:00:01:01")/IP(src="10.1.0.2",dst="10.1.0.1")/UDP(sport=40001,dport=7780)/Raw(b"tx")' \
    "${F}7781)/Raw(b'devmap')" "${F}7782)/Raw(b'miss')" "${F}7783)/Raw(b'small')" "${F}7783)/Raw(b'z' * 1072)"
sleep 0.3
ip netns exec client ping -c 1 -W 1 10.2.0.2
sleep 0.3
