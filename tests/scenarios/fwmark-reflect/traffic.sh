# marked SYN to a listener without SO_MARK: SYN-ACK and connection take mark 7 (through gw)
ip netns exec client socat -u -T 2 TCP:10.1.0.1:8082,connect-timeout=2,sourceport=40001 -
sleep 0.3
# unmarked SYN: directly
ip netns exec client socat -u -T 2 TCP:10.1.0.1:8084,connect-timeout=2,sourceport=40002 -
sleep 0.3
# a listener with SO_MARK 9 keeps it for its connection (directly)
ip netns exec client socat -u -T 2 TCP:10.1.0.1:8086,connect-timeout=2,sourceport=40003 -
sleep 0.3
# closed ports: the reset reflects the SYN's mark (8083 through gw, 8085 directly)
ip netns exec client socat -u -T 1 TCP:10.1.0.1:8083,connect-timeout=1,sourceport=40004 - || true
sleep 0.3
ip netns exec client socat -u -T 1 TCP:10.1.0.1:8085,connect-timeout=1,sourceport=40005 - || true
sleep 0.3
# a marked bare ACK to the listener with SO_MARK 9: its reset takes the packet's mark 7 (through gw)
ip netns exec client sendframe eth0 \
    "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1')/TCP(sport=40011, dport=8086, flags='A', seq=1000, ack=5000)"
# UDP to closed ports: port unreachable through gw (9000, marked) and directly (9001)
ip netns exec client sendframe eth0 \
    "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1')/UDP(sport=40021, dport=9000)/Raw(b'x')" \
    "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1')/UDP(sport=40022, dport=9001)/Raw(b'x')"
# echo requests: the 100-byte one is marked (reply through gw), the 56-byte one not (directly)
ip netns exec client ping -c 1 -W 1 -s 100 10.1.0.1
sleep 0.3
ip netns exec client ping -c 1 -W 1 10.1.0.1
