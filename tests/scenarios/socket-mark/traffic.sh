# 8080: marked from the listener on (SYN-ACK and data through gw)
ip netns exec client socat -u -T 2 TCP:10.1.0.1:8080,connect-timeout=2,sourceport=40001 -
sleep 0.3
# 8081: the connection is marked after accept() (SYN-ACK direct, data through gw)
ip netns exec client socat -u -T 2 TCP:10.1.0.1:8081,connect-timeout=2,sourceport=40002 -
sleep 0.3
# 8082: no mark (direct)
ip netns exec client socat -u -T 2 TCP:10.1.0.1:8082,connect-timeout=2,sourceport=40003 -
sleep 0.3
# 8083: closed, the kernel's reset has no socket and no mark (direct)
ip netns exec client socat -u -T 1 TCP:10.1.0.1:8083,connect-timeout=1,sourceport=40004 - || true
