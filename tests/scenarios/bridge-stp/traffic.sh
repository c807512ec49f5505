# Every step waits for the port state the kernel reports (brport/state: 1 listening, 2 learning,
# 3 forwarding, 4 blocking), bounded. sendframe needs about 2 s to start (scapy), so a frame leaves
# about 2 s after the wait; the steps keep well clear of the next transition (the kernel's timer
# wheel fires a 4-15 s timer up to 256 ms late, a 20-40 s one up to 2 s late).
H1="02:00:00:00:01:02"; H2="02:00:00:00:02:02"
waitstate() { # PORT STATE
    for _ in $(seq 1 800); do
        [[ $(cat /sys/class/net/$1/brport/state) == "$2" ]] && return 0
        sleep 0.05
    done
    echo "$1 never reached state $2" >&2; return 1
}
udp() { # FROM-NS SRC-MAC DST-MAC ID (to the address of the host behind DST-MAC, which answers port unreachable)
    local to=${3: -4:1}
    echo "Ether(src='$2', dst='$3')/IP(src='10.0.0.${1#h}', dst='10.0.0.$to', id=$4)/UDP(sport=1000, dport=9)/Raw(b'stp')"
}
bpdu() { # SRC-MAC ROOTPRIO ROOTMAC COST BRIDGEPRIO BRIDGEMAC PORT AGE MAXAGE FWD
    echo "Dot3(src='$1', dst='01:80:c2:00:00:00')/LLC(dsap=0x42, ssap=0x42, ctrl=3)/STP(rootid=$2, rootmac='$3', pathcost=$4, bridgeid=$5, bridgemac='$6', portid=$7, age=$8, maxage=$9, hellotime=2, fwddelay=${10})"
}
[[ $(cat /sys/class/net/port1/brport/state) == 1 ]] || { echo "port1 is not listening at the start" >&2; exit 1; }
# listening: dropped by br_handle_frame; an inferior BPDU (root 0xf000) is consumed and answered
ip netns exec h1 sendframe eth0 "$(udp h1 $H1 $H2 1)" "$(bpdu $H1 0xf000 02:00:00:00:0b:0b 0 0xf000 02:00:00:00:0b:0b 0x8001 0 20 15)"
# learning: the source is learned, the frame goes no further
waitstate port1 2; sleep 6
ip netns exec h1 sendframe eth0 "$(udp h1 $H1 $H2 2)"
# forwarding: h2 -> h1 goes to port1 only (learned while learning), then a ping both ways
waitstate port1 3; waitstate port2 3; waitstate port3 3
ip netns exec h2 sendframe eth0 "$(udp h2 $H2 $H1 3)"
ip netns exec h1 ping -c 1 -W 1 10.0.0.2
sleep 0.3
# a superior root (0x1000) heard on port2 (its root port now; max_age 40 s, longer than the rest),
# then on port1 from a worse designated port of the same bridge (max_age 6 s): port1 blocking
ip netns exec h2 sendframe eth0 "$(bpdu $H2 0x1000 02:00:00:00:0a:0a 0 0x1000 02:00:00:00:0a:0a 0x8001 0 40 4)"
ip netns exec h1 sendframe eth0 "$(bpdu $H1 0x1000 02:00:00:00:0a:0a 0 0x1000 02:00:00:00:0a:0a 0x8002 0 6 4)"
waitstate port1 4
ip netns exec h1 sendframe eth0 "$(udp h1 $H1 $H2 4)"
# port1's information ages out (6 s): designated again, listening, learning, forwarding (the root's
# forward_delay, 4 s, now applies)
waitstate port1 1
ip netns exec h1 sendframe eth0 "$(udp h1 $H1 $H2 5)"
waitstate port1 2
ip netns exec h1 sendframe eth0 "$(udp h1 $H1 $H2 6)"
waitstate port1 3
ip netns exec h1 sendframe eth0 "$(udp h1 $H1 $H2 7)"
