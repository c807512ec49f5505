# from outside (client): NodePort a (DNAT to p1, masqueraded), NodePort b twice (numgen inc: p1, then p2),
# ClusterIP a (masqueraded: the source is no pod), a ClusterIP port that is no service (reject), a service
# without endpoints (UDP: reject in service-endpoints-check), an unallocated ClusterIP (dropped), a NodePort
# without endpoints (reject in filter-input), a port that is no NodePort (RST from the node)
ip netns exec client socat -u -T 2 TCP:192.168.1.1:30080,connect-timeout=2,sourceport=41001 -
sleep 0.3
ip netns exec client socat -u -T 2 TCP:192.168.1.1:30081,connect-timeout=2,sourceport=41002 -
sleep 0.3
ip netns exec client socat -u -T 2 TCP:192.168.1.1:30081,connect-timeout=2,sourceport=41003 -
sleep 0.3
ip netns exec client socat -u -T 2 TCP:10.96.0.10:80,connect-timeout=2,sourceport=41004 -
sleep 0.3
ip netns exec client socat - TCP:10.96.0.10:81,connect-timeout=1,sourceport=41005 </dev/null || true
sleep 0.3
echo q | ip netns exec client socat -u - UDP:10.96.0.30:53,sourceport=41006 || true
sleep 0.3
echo q | ip netns exec client socat -u - UDP:10.96.0.99:5000,sourceport=41007 || true
sleep 0.3
ip netns exec client socat - TCP:192.168.1.1:30083,connect-timeout=1,sourceport=41008 </dev/null || true
sleep 0.3
ip netns exec client socat - TCP:192.168.1.1:30099,connect-timeout=1,sourceport=41009 </dev/null || true
