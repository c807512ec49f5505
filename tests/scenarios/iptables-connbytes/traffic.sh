# each flow's datagrams 0.3 s apart, from one socket; the host echoes what it accepts
# 7100: datagrams 1-3 pass, 4 and 5 are the connection's 4th and 5th: dropped
(for i in 1 2 3 4 5; do echo "p$i"; sleep 0.3; done) | timeout 4 ip netns exec client socat -t 0.5 - UDP:10.1.0.1:7100,sourceport=41100 || true
# 7101: three small datagrams (answered), then 1000-byte ones until the average both ways reaches 200
(for i in 1 2 3; do echo "s$i"; sleep 0.3; done; for i in 1 2 3; do printf '%0999d\n' 0; sleep 0.3; done) | timeout 5 ip netns exec client socat -b 2000 -t 0.5 - UDP:10.1.0.1:7101,sourceport=41101 >/dev/null || true
# 7102: passes while the host has answered at most twice
(for i in 1 2 3 4 5; do echo "r$i"; sleep 0.3; done) | timeout 4 ip netns exec client socat -t 0.5 - UDP:10.1.0.1:7102,sourceport=41102 || true
# ping with 528-byte requests: the 3rd brings the original bytes to 1584
ip netns exec client ping -c 5 -i 0.3 -s 500 -W 1 10.1.0.1 || true
