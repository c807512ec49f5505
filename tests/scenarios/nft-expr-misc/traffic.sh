# A ping first (both links' neighbours). Each datagram once, from 10.1.0.2 unless said; the server's
# UDP ports are closed (port unreachable back), its TCP port 80 answers "s".
# TCP 8081 DNATed (fully-random, one port) to the server and answered; TCP 8082 DNATed too and dropped
# in forward by its ct original/reply tuple. UDP from 10.9.9.9 (no route back: fib oif missing) dropped;
# broadcast 10.1.0.255:7010, multicast 239.1.1.1:7011 and unicast 10.1.0.1:7012 dropped by pkttype;
# 1022 bytes to 7020 dropped by meta length, 10 bytes pass; 7021 dropped by iiftype/protocol, 7022
# passes; 7023 dropped by iifname "veth*"; 10.2.0.1:7024 (the router's address on eth1) is not
# local for fib daddr . iif type (looked up with veth-c as output device): the router answers port
# unreachable, as to 10.2.0.2:7024 the server does; 7030 twice (numgen), 7031 and 7032 once each (symhash, jhash); 7040/7041
# rejected with host unreachable / admin prohibited, 7042 with icmpx port unreachable; 7050 sent out of
# eth1 by fwd as it came (the server drops it: not its MAC).
ip netns exec server socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo s' &
sleep 0.5
ip netns exec client ping -c 1 -W 2 10.2.0.2
sleep 0.3
ip netns exec client socat -u -T 2 TCP:10.1.0.1:8081,connect-timeout=2,sourceport=41081 -
sleep 0.3
ip netns exec client socat -u TCP:10.1.0.1:8082,connect-timeout=0.5,sourceport=41082 - </dev/null || true
sleep 0.3
send() { # DEST PORT SOURCEPORT [socat options]
    echo -n "x$2" | ip netns exec client socat -u - UDP-SENDTO:$1:$2,sourceport=$3${4:+,$4}
    sleep 0.3
}
send 10.2.0.2 7000 42000 bind=10.9.9.9
send 10.1.0.255 7010 42010 broadcast
send 239.1.1.1 7011 42011
send 10.1.0.1 7012 42012
head -c 1022 /dev/zero | ip netns exec client socat -u - UDP-SENDTO:10.2.0.2:7020,sourceport=42020
sleep 0.3
send 10.2.0.2 7020 42021
send 10.2.0.2 7021 42022
send 10.2.0.2 7022 42023
send 10.2.0.2 7023 42024
send 10.2.0.1 7024 42025
send 10.2.0.2 7024 42026
send 10.2.0.2 7030 42030
send 10.2.0.2 7030 42031
send 10.2.0.2 7031 42032
send 10.2.0.2 7032 42033
send 10.2.0.2 7040 42040
send 10.2.0.2 7041 42041
send 10.2.0.2 7042 42042
send 10.2.0.2 7050 42050
