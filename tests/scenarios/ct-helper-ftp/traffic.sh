# Passive (227, 229) and active (PORT, EPRT) FTP on one control connection, each data connection made
# while its expectation is the only one (the ftp helper keeps one per master); a last 227 whose data
# connection never comes (listed by conntrack -L expect); a data connection nothing announced; a 227
# as a server's first line (not parsed); a TFTP read request answered from another port.
# The client waits for each reply before its next command, so every command and reply is a segment of
# its own (the helper looks at the start of a segment only); flag files order the server's connections.
D=$(mktemp -d)
timeout 20 ip netns exec client python3 - "$D" <<'PY' &
import os, socket, sys, time
flags = sys.argv[1]
def connect(port, sport):
    return socket.create_connection(("10.2.0.2", port), timeout=3, source_address=("10.1.0.2", sport))
c = connect(21, 40021)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
def reply():
    data = b""
    while not data.endswith(b"\n"):
        more = c.recv(200)
        if not more:
            raise SystemExit("control connection closed")
        data += more
    return data
def command(line):
    time.sleep(0.3)
    c.sendall(line.encode() + b"\r\n")
    return reply()
def data(port, sport):
    time.sleep(0.3)
    d = connect(port, sport)
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
command("USER anonymous")
command("PASV")
data(40001, 41001)
command("EPSV")
data(40002, 41002)
command("PORT 10,1,0,2,156,67")
open(os.path.join(flags, "port"), "w").close()
wait_for("active1")
command("EPRT |1|10.1.0.2|40004|")
open(os.path.join(flags, "eprt"), "w").close()
wait_for("active2")
command("PASV")
command("QUIT")
time.sleep(0.3)
c.close()
PY
for f in port eprt; do
    for i in $(seq 50); do [[ -e $D/$f ]] && break; sleep 0.1; done
    sleep 0.3
    if [[ $f == port ]]; then
        echo active1 | timeout 3 ip netns exec server socat -T 1 - TCP:10.1.0.2:40003,sourceport=20 >/dev/null
        touch "$D/active1"
    else
        echo active2 | timeout 3 ip netns exec server socat -T 1 - TCP:10.1.0.2:40004,sourceport=2020 >/dev/null
        touch "$D/active2"
    fi
done
wait
rm -rf "$D"
sleep 0.3
# nothing announced port 40009: the SYN is new, not related, and the forward policy drops it
timeout 2 ip netns exec client socat -u TCP:10.2.0.2:40009,sourceport=41009,connect-timeout=0.5 - >/dev/null 2>&1 || true
sleep 0.3
# a 227 as the server's first line: not parsed, the data connection to 40006 is dropped
(sleep 0.3; printf 'x\r\n'; sleep 0.3) | timeout 3 ip netns exec client socat -T 2 - TCP:10.2.0.2:2121,sourceport=40121 >/dev/null
sleep 0.3
timeout 2 ip netns exec client socat -u TCP:10.2.0.2:40006,sourceport=41006,connect-timeout=0.5 - >/dev/null 2>&1 || true
sleep 0.3
# TFTP: a read request to 69, the answer from port 50069 is related
printf '\0\1file\0octet\0' | timeout 3 ip netns exec client socat -u - UDP:10.2.0.2:69,sourceport=41069,reuseaddr
sleep 0.3
printf '\0\3\0\1data' | timeout 2 ip netns exec server socat -u - UDP:10.1.0.2:41069,sourceport=50069
sleep 0.3
