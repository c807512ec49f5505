ip netns exec a socat -u - UDP:203.0.113.53:53,sourceport=5000 <<<"from a"
sleep 0.3
ip netns exec b socat -u - UDP:203.0.113.53:53,sourceport=5000 <<<"from b"
sleep 0.3
# both ping with the same echo identifier (ping -e; as root iputils uses a raw socket and writes that
# identifier): the second one collides after masquerade and conntrack gives it another
ip netns exec a ping -c 1 -W 1 -e 1234 203.0.113.53
sleep 0.3
ip netns exec b ping -c 1 -W 1 -e 1234 203.0.113.53
