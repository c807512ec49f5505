# the ARP request for 10.11.0.2 comes back in on vx1 (nobody answers it)
ping -c 1 -W 1 10.11.0.2 || true
