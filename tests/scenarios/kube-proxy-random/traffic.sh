# from outside: NodePort 30090 of service b five times (kube-proxy's random choice among p1, p2, p3
# each time), then NodePort 30080 of service a once (its only endpoint, p1)
for port in 41001 41002 41003 41004 41005; do
    ip netns exec client socat -u -T 2 TCP:192.168.1.1:30090,connect-timeout=2,sourceport=$port -
    sleep 0.3
done
ip netns exec client socat -u -T 2 TCP:192.168.1.1:30080,connect-timeout=2,sourceport=41006 -
