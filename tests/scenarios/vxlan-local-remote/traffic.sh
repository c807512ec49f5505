# the ARP requests for 10.10.0.2 leave vx0's taps and are dropped in vxlan_xmit_one
ping -c 1 -W 1 10.10.0.2 || true
