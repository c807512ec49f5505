# two datagrams per port, 81..87, from one source port each: the first is labelled as new, the second
# meets the labels of its established entry
for p in 81 82 83 84 85 86 87; do
    for i in 1 2; do
        ip netns exec c socat -u - UDP:10.1.0.1:$p,sourceport=50$p <<<"to $p ($i)"
        sleep 0.2
    done
done
