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
echo -n x7000 | ip netns exec client socat -u - UDP-SENDTO:10.2.0.2:7000,sourceport=42000,bind=10.9.9.9
sleep 0.3
echo -n x7010 | ip netns exec client socat -u - UDP-SENDTO:10.1.0.255:7010,sourceport=42010,broadcast
sleep 0.3
echo -n x7011 | ip netns exec client socat -u - UDP-SENDTO:239.1.1.1:7011,sourceport=42011
sleep 0.3
echo -n x7012 | ip netns exec client socat -u - UDP-SENDTO:10.1.0.1:7012,sourceport=42012
sleep 0.3
head -c 1022 /dev/zero | ip netns exec client socat -u - UDP-SENDTO:10.2.0.2:7020,sourceport=42020
sleep 0.3
echo -n x7020 | ip netns exec client socat -u - UDP-SENDTO:10.2.0.2:7020,sourceport=42021
sleep 0.3
echo -n x7021 | ip netns exec client socat -u - UDP-SENDTO:10.2.0.2:7021,sourceport=42022
sleep 0.3
echo -n x7022 | ip netns exec client socat -u - UDP-SENDTO:10.2.0.2:7022,sourceport=42023
sleep 0.3
echo -n x7023 | ip netns exec client socat -u - UDP-SENDTO:10.2.0.2:7023,sourceport=42024
sleep 0.3
echo -n x7024 | ip netns exec client socat -u - UDP-SENDTO:10.2.0.1:7024,sourceport=42025
sleep 0.3
echo -n x7024 | ip netns exec client socat -u - UDP-SENDTO:10.2.0.2:7024,sourceport=42026
sleep 0.3
echo -n x7030 | ip netns exec client socat -u - UDP-SENDTO:10.2.0.2:7030,sourceport=42030
sleep 0.3
echo -n x7030 | ip netns exec client socat -u - UDP-SENDTO:10.2.0.2:7030,sourceport=42031
sleep 0.3
echo -n x7031 | ip netns exec client socat -u - UDP-SENDTO:10.2.0.2:7031,sourceport=42032
sleep 0.3
echo -n x7032 | ip netns exec client socat -u - UDP-SENDTO:10.2.0.2:7032,sourceport=42033
sleep 0.3
echo -n x7040 | ip netns exec client socat -u - UDP-SENDTO:10.2.0.2:7040,sourceport=42040
sleep 0.3
echo -n x7041 | ip netns exec client socat -u - UDP-SENDTO:10.2.0.2:7041,sourceport=42041
sleep 0.3
echo -n x7042 | ip netns exec client socat -u - UDP-SENDTO:10.2.0.2:7042,sourceport=42042
sleep 0.3
echo -n x7050 | ip netns exec client socat -u - UDP-SENDTO:10.2.0.2:7050,sourceport=42050
sleep 0.3
