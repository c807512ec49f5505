# 3000: port from an anonymous map (server:8080); 3001: from the named map @backends (8081); 3002: a key the
# map lacks (the next rule: 9000); 4000 and 4001: address . port from a map keyed by the port; 5000: by
# ip saddr . tcp dport; 6000: address from one map, port from another keyed by the source port (9000);
# 6500: dnat to :9100 (the router's own listener); 7000: redirect to the port a map gives (9100); 8082 to
# the server directly: masqueraded to the source port a map gives (1234); 8083 from 40011: no element, not NATed
# by the masquerade rule (the lookup breaks it): the server answers 10.1.0.2 itself (closed port: RST)
i=0
for spec in 3000:40001 3001:40002 3002:40003 4000:40004 4001:40005 5000:40006 6000:40009 6500:40007 7000:40008; do
    i=$((i + 1)); [ $i -le 9 ] || break
    ip netns exec client socat -u -T 2 TCP:10.1.0.1:${spec%%:*},connect-timeout=2,sourceport=${spec##*:} -
    sleep 0.3
done
ip netns exec client socat -u -T 2 TCP:10.2.0.2:8082,connect-timeout=2,sourceport=40010 -
sleep 0.3
ip netns exec client socat - TCP:10.2.0.2:8083,connect-timeout=1,sourceport=40011 </dev/null || true
