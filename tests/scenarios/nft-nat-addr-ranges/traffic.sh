# From each of the eight client addresses: 3000, 3001, 3002 to the router (DNAT into 10.2.0.2-10.2.0.9),
# 8081, 8082, 8083 to the server (SNAT into 198.51.100.1-40, 198.51.100.50-90 persistent, 203.0.113.0/24
# netmap); each connection gets its own source port
n=0
for i in 2 3 4 5 6 7 8 9; do
    for dst in 10.1.0.1:3000 10.1.0.1:3001 10.1.0.1:3002 10.2.0.2:8081 10.2.0.2:8082 10.2.0.3:8083; do
        n=$((n + 1)); [ $n -le 48 ] || break 2
        ip netns exec client socat -u -T 2 TCP:$dst,connect-timeout=2,bind=10.1.0.$i,sourceport=$((41000 + n)) -
        sleep 0.2
    done
done
