# One sendto of N * SIZE bytes with UDP_SEGMENT SIZE: a single GSO skb of N segments.
# usage: udpgso.py DST PORT SIZE N do|dont   (IP_MTU_DISCOVER: DF set or clear)
import socket, sys
dst, port, size, n, df = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "do"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 40002))
s.setsockopt(socket.IPPROTO_IP, 10, 2 if df else 0)  # IP_MTU_DISCOVER: IP_PMTUDISC_DO (2) / DONT (0)
s.setsockopt(socket.IPPROTO_UDP, 103, size)           # UDP_SEGMENT
try:
    s.sendto(b"x" * (size * n), (dst, port))
except OSError as e:
    print("sendto:", e)
