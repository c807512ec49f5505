# Port 80: the proxy's end of the first connection is in TIME_WAIT; the second SYN from the same
# client port matches `socket transparent 1` (the TIME_WAIT socket is transparent), is routed
# locally with its mark and finds that socket again: tcp_timewait_state_process takes the newer SYN
# (TCP_TW_SYN), but no listener has 198.51.100.10:80, so it answers with an ACK; the client resets
# (which kills the TIME_WAIT socket) and its retransmitted SYN goes to the listener through tproxy.
ip netns exec client socat -u -T 2 TCP:198.51.100.10:80,connect-timeout=2,sourceport=40001 -
sleep 0.5
ip netns exec client socat -u -T 3 TCP:198.51.100.10:80,connect-timeout=3,sourceport=40001 -
sleep 0.5
# Port 82, tproxy only: nf_tproxy_handle_time_wait4 hands the SYN that finds the TIME_WAIT socket
# to the listener on 8080 (the TIME_WAIT socket is descheduled): SYN-ACK at once
ip netns exec client socat -u -T 2 TCP:198.51.100.10:82,connect-timeout=2,sourceport=40002 -
sleep 0.5
ip netns exec client socat -u -T 2 TCP:198.51.100.10:82,connect-timeout=2,sourceport=40002 -
sleep 0.5
# The router's own port 9000: the newer SYN (timestamps) reuses the TIME_WAIT connection's port
# (its initial sequence number is tw_snd_nxt + 65537); then a second connection from 40005
ip netns exec client socat -u -T 2 TCP:10.1.0.1:9000,connect-timeout=2,sourceport=40004 -
sleep 0.5
ip netns exec client socat -u -T 2 TCP:10.1.0.1:9000,connect-timeout=2,sourceport=40004 -
ip netns exec client socat -u -T 2 TCP:10.1.0.1:9000,connect-timeout=2,sourceport=40005 -
# An out-of-window ACK for 40004 a few seconds later (sendframe itself may take half a minute to
# start): its TIME_WAIT socket answers with an ACK, which the client (no socket any more) resets: the
# in-window reset kills the TIME_WAIT socket. 65 s after that the same ACK for 40005, whose TIME_WAIT
# socket has expired by then (TCP_TIMEWAIT_LEN 60 s): the listener answers with a RST
sleep 5
ip netns exec client sendframe eth0 \
    "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1')/TCP(sport=40004, dport=9000, flags='A', seq=1000, ack=5000)"
sleep 65
ip netns exec client sendframe eth0 \
    "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1')/TCP(sport=40005, dport=9000, flags='A', seq=1000, ack=5000)"
# Last, a connection through tproxy port 80 and one to port 9000 whose TIME_WAIT sockets (a transparent
# one of 198.51.100.10:80, a plain one) are still there when the recorder lists the sockets (ss -tan)
sleep 1
ip netns exec client socat -u -T 2 TCP:198.51.100.10:80,connect-timeout=2,sourceport=40006 -
ip netns exec client socat -u -T 2 TCP:10.1.0.1:9000,connect-timeout=2,sourceport=40007 -
