# A ping first (both links' neighbours). TCP to 10.2.0.2:8080 is redirected to host's socket on
# 10.1.0.1:9000 (it answers "r"). UDP from 10.1.0.2 (each datagram once, the server's ports closed
# unless said): 5001 NOTRACK and 5002 CT --notrack leave unmasqueraded; 5003 is marked 0x7, the mark
# saved to the connection and restored on the server's answer, which -m connmark drops; 5004 MASQUERADE
# --random and 5005 SNAT --random-fully leave from a random port; 5006 dropped in the security table;
# 5007 goes OUTER -> goto CHK -> RETURN back to FORWARD (OUTER's DROP skipped), passes; 5008 dropped
# in CHK; 5009 NFQUEUE without a listener, dropped; 5010 NFQUEUE --queue-bypass, passes.
socat TCP-LISTEN:9000,reuseaddr SYSTEM:'echo r' &
ip netns exec server socat -T 2 UDP-RECVFROM:5003 SYSTEM:'echo s' &
sleep 0.5
ip netns exec client ping -c 1 -W 2 10.2.0.2
sleep 0.3
ip netns exec client socat -u -T 2 TCP:10.2.0.2:8080,connect-timeout=2,sourceport=41080 -
sleep 0.3
for port in 5001 5002 5003 5004 5005 5006 5007 5008 5009 5010; do
    echo -n x$port | ip netns exec client socat -u - UDP:10.2.0.2:$port,sourceport=4$port
    sleep 0.3
done
