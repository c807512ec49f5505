# Passive (227, 229) and active (PORT, EPRT) FTP on one control connection, each data connection made
# while its expectation is the only one (the ftp helper keeps one per master); a last 227 whose data
# connection never comes (listed by conntrack -L expect); a data connection nothing announced; a 227
# as a server's first line (not parsed); a TFTP read request answered from another port.
(
    sleep 0.3; printf 'USER anonymous\r\n'
    sleep 0.3; printf 'PASV\r\n'
    sleep 1.0; printf 'EPSV\r\n'
    sleep 1.0; printf 'PORT 10,1,0,2,156,67\r\n'
    sleep 1.0; printf 'EPRT |1|10.1.0.2|40004|\r\n'
    sleep 1.0; printf 'PASV\r\n'
    sleep 0.5; printf 'QUIT\r\n'
    sleep 0.5
) | timeout 10 ip netns exec client socat -T 3 - TCP:10.2.0.2:21,sourceport=40021 >/dev/null &
sleep 1.0
timeout 3 ip netns exec client socat -u -T 2 TCP:10.2.0.2:40001,sourceport=41001 - >/dev/null
sleep 0.6
timeout 3 ip netns exec client socat -u -T 2 TCP:10.2.0.2:40002,sourceport=41002 - >/dev/null
sleep 0.6
echo active1 | timeout 3 ip netns exec server socat -T 1 - TCP:10.1.0.2:40003,sourceport=20 >/dev/null
sleep 0.6
echo active2 | timeout 3 ip netns exec server socat -T 1 - TCP:10.1.0.2:40004,sourceport=2020 >/dev/null
sleep 1.5
wait
# nothing announced port 40009: the SYN is new, not related, and the forward policy drops it
timeout 2 ip netns exec client socat -u TCP:10.2.0.2:40009,sourceport=41009,connect-timeout=0.5 - >/dev/null 2>&1 || true
sleep 0.3
# a 227 as the server's first line: not parsed, the data connection to 40006 is dropped
(sleep 0.3; printf 'x\r\n'; sleep 0.3) | timeout 3 ip netns exec client socat -T 2 - TCP:10.2.0.2:2121,sourceport=40121 >/dev/null
sleep 0.3
timeout 2 ip netns exec client socat -u TCP:10.2.0.2:40006,sourceport=41006,connect-timeout=0.5 - >/dev/null 2>&1 || true
sleep 0.3
# TFTP: a read request to 69, the answer from port 50069 is related
printf '\0\1file\0octet\0' | timeout 3 ip netns exec client socat -T 1 - UDP-DATAGRAM:10.2.0.2:69,bind=10.1.0.2:41069 >/dev/null &
sleep 0.3
printf '\0\3\0\1data' | timeout 2 ip netns exec server socat -u - UDP:10.1.0.2:41069,sourceport=50069
sleep 0.3
wait
