# 2 MB over TCP: once the client's congestion window allows, it sends a jumbogram (payload length 0,
# hop-by-hop jumbo). Forwarded, its segments count the 8-byte hop-by-hop header: 48 + 32 + 8928 =
# 9008 > 9000 (skb_gso_validate_network_len in ip6_pkt_too_big), so the router answers ICMPv6 packet
# too big (mtu 9000); the client goes on with super-packets under 64 KiB, forwarded whole.
head -c 2000000 /dev/zero | ip netns exec client socat -u -T 3 - TCP6:[2001:db8:2::2]:5001,sourceport=40001,connect-timeout=2
sleep 0.5
