# crafted frames from the client: one UDP 5-tuple per port, each with four TTLs (four marks), then
# echo requests with one identifier and two TTLs; the host answers UDP with port unreachable
send() {
    ip netns exec client sendframe eth0 \
      "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', ttl=$1, id=$2)/$3"
    sleep 0.2
}
for port in 5000 6000 7000; do
    for ttl in 64 32 16 100; do
        send $ttl $((port / 1000 * 100 + ttl)) "UDP(sport=40000, dport=$port)/Raw(b'zone')"
    done
done
send 64 901 "ICMP(type=8, id=77, seq=1)/Raw(b'ping')"
send 32 902 "ICMP(type=8, id=77, seq=2)/Raw(b'ping')"
send 64 903 "ICMP(type=8, id=77, seq=3)/Raw(b'ping')"
