# The LAN host's FTP session with the outside server (masqueraded): PASV and a data connection, PORT
# and EPRT with the server connecting back to the public address, a NOOP after the rewrites (its
# sequence numbers adjusted); then the outside host's session with the published server (DNAT): PASV
# and EPSV each with a data connection to the public address, a NOOP, a last PASV never used; then a
# TFTP read request from the LAN host answered from another port.
# Each command waits for its reply, so every command and reply is a segment of its own (the helper
# looks at the start of a segment only); flag files order the connections the server makes back.
D=$(mktemp -d)
cat > "$D/ftp.py" <<'PY'
import os, socket, sys, time
host, port, sport, flags = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
commands = sys.argv[5:]
c = socket.create_connection((host, port), timeout=3, source_address=("0.0.0.0", sport))
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
    d = socket.create_connection((host, dport), timeout=3, source_address=("0.0.0.0", dsport))
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
timeout 20 ip netns exec client python3 "$D/ftp.py" 10.2.0.2 21 40021 "$D" "USER anonymous" PASV data:40001:41001 \
    "PORT 192,168,10,2,156,67" flag:port wait:active1 "EPRT |1|192.168.10.2|40004|" flag:eprt wait:active2 NOOP QUIT &
for f in port eprt; do
    for i in $(seq 50); do [[ -e $D/$f ]] && break; sleep 0.1; done
    sleep 0.3
    if [[ $f == port ]]; then
        echo active1 | timeout 3 ip netns exec server socat -T 1 - TCP:10.2.0.1:40003,sourceport=20 >/dev/null
        touch "$D/active1"
    else
        echo active2 | timeout 3 ip netns exec server socat -T 1 - TCP:10.2.0.1:40004,sourceport=2020 >/dev/null
        touch "$D/active2"
    fi
done
wait
sleep 0.3
timeout 20 ip netns exec server python3 "$D/ftp.py" 10.2.0.1 2121 40121 "$D" "USER anonymous" PASV data:40007:41007 EPSV data:40008:41008 NOOP PASV QUIT
rm -rf "$D"
sleep 0.3
# TFTP: a read request to 69, the answer from port 50069 to the public address is related
printf '\0\1file\0octet\0' | timeout 3 ip netns exec client socat -u - UDP:10.2.0.2:69,sourceport=41069,reuseaddr
sleep 0.3
printf '\0\3\0\1data' | timeout 2 ip netns exec server socat -u - UDP:10.2.0.1:41069,sourceport=50069
sleep 0.3
