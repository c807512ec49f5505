# vx0: the host's echo request carries flow label 0x12345; node2's reply has UDP checksum 0 and the
# host's vx0 socket does not take it (udpv6_rcv). vx1: node2's zero-checksum reply (flow label
# 0xfffff) is accepted
ping -c 1 -W 1 10.42.0.2 || true
sleep 0.3
ping -c 1 -W 1 10.43.0.2 || true
