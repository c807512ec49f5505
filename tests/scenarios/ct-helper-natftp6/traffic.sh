# The LAN host's FTP session with the outside server (masqueraded): EPSV and a data connection, EPRT
# with the server connecting back to the public address (the |2| address rewritten, longer: later
# sequence numbers adjusted), a NOOP after the rewrite; then the outside host's session with the
# published server (DNAT): EPSV with a data connection to the public address, a NOOP, a last EPSV never
# used. Each command waits for its reply, so every command and reply is a segment of its own (the
# helper looks at the start of a segment only); flag files order the connection the server makes back.
D=$(mktemp -d)
cat > "$D/ftp.py" <<'PY'
import os, socket, sys, time
host, port, sport, flags = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
commands = sys.argv[5:]
c = socket.create_connection((host, port), timeout=3, source_address=("::", sport))
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
def reply():
    data = b""
    while not data.endswith(b"\n"):
        more = c.recv(200)
        if not more:
            raise SystemExit("control connection closed")
        data += more
    return data
def data(dport, dsport):
    time.sleep(0.3)
    d = socket.create_connection((host, dport), timeout=3, source_address=("::", dsport))
    while d.recv(100):
        pass
    d.close()
def wait_for(name):
    for _ in range(50):
        if os.path.exists(os.path.join(flags, name)):
            return
        time.sleep(0.1)
    raise SystemExit("no " + name)
reply()
for cmd in commands:
    # "LINE" sends a line; "data:P:S" connects to port P from S; "flag:N" / "wait:N" order the server's connections
    kind, _, rest = cmd.partition(":")
    if kind == "data":
        dport, dsport = rest.split(":")
        data(int(dport), int(dsport))
    elif kind == "flag":
        open(os.path.join(flags, rest), "w").close()
    elif kind == "wait":
        wait_for(rest)
    else:
        time.sleep(0.3)
        c.sendall(cmd.encode() + b"\r\n")
        reply()
time.sleep(0.3)
c.close()
PY
timeout 20 ip netns exec client python3 "$D/ftp.py" 2001:db8:2::2 21 40021 "$D" "USER anonymous" EPSV data:40001:41001 \
    "EPRT |2|fd00:10::2|40004|" flag:eprt wait:active NOOP QUIT &
for i in $(seq 50); do [[ -e $D/eprt ]] && break; sleep 0.1; done
sleep 0.3
timeout 3 ip netns exec server socat -u TCP6:[2001:db8:2::1]:40004,sourceport=2020 - >/dev/null
touch "$D/active"
wait
sleep 0.3
timeout 20 ip netns exec server python3 "$D/ftp.py" 2001:db8:2::1 2121 40121 "$D" "USER anonymous" EPSV data:40008:41008 NOOP EPSV QUIT
rm -rf "$D"
sleep 0.3
