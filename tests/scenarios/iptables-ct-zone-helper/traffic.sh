# One FTP session from the LAN host: PASV and a data connection to 40001 (zone-orig 5: related), PASV
# and a connection to 40002 (zone 0: new, dropped; its SYN retransmitted once), QUIT. Each command
# waits for its reply, so every command and reply is a segment of its own.
D=$(mktemp -d)
cat > "$D/ftp.py" <<'PY'
import socket, sys, time
c = socket.create_connection(("10.2.0.2", 21), timeout=3, source_address=("0.0.0.0", 40021))
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
def reply():
    data = b""
    while not data.endswith(b"\n"):
        more = c.recv(200)
        if not more:
            raise SystemExit("control connection closed")
        data += more
def send(line):
    time.sleep(0.3)
    c.sendall(line.encode() + b"\r\n")
    reply()
reply()
send("USER anonymous")
send("PASV")
time.sleep(0.3)
d = socket.create_connection(("10.2.0.2", 40001), timeout=3, source_address=("0.0.0.0", 41001))
while d.recv(100):
    pass
d.close()
send("PASV")
time.sleep(0.3)
try:
    socket.create_connection(("10.2.0.2", 40002), timeout=1.5, source_address=("0.0.0.0", 41002))
except OSError:
    pass
send("QUIT")
time.sleep(0.3)
c.close()
PY
timeout 20 ip netns exec client python3 "$D/ftp.py"
rm -rf "$D"
sleep 0.3
