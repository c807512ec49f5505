# Pester 5 tests against the built module (out/PktFlow). build.ps1 Test sets PKTFLOW_MODULE.
BeforeAll {
    $script:root = Resolve-Path (Join-Path $PSScriptRoot '../..')
    $modulePath = if ($env:PKTFLOW_MODULE) { $env:PKTFLOW_MODULE } else { Join-Path $root 'out/PktFlow/PktFlow.psd1' }
    Import-Module $modulePath -Force
    $script:captures = Join-Path $root 'captures'
    $script:tmp = Join-Path ([IO.Path]::GetTempPath()) "pktflow-pester-$PID"
    New-Item -ItemType Directory -Force -Path $tmp | Out-Null

    # The kernel's record (captures/*/kernel.json) against the model's trace. Returns why they differ, or nothing.
    function script:Compare-KernelFate($Kernel, $Trace) {
        Set-StrictMode -Off # kernel.json leaves out fields that do not apply (dropReason, outDev)
        $kf = $Kernel.fate; $kr = $Kernel.dropReason
        switch ($Trace.Fate) {
            'Unsupported' { return "model unsupported ($($Trace.Reason)); kernel $kf $kr" }
            'Delivered' { if ($kf -eq 'Delivered') { return $null } }
            'Dropped' {
                if ($kf -eq 'Dropped' -and (-not $kr -or $kr -eq $Trace.Reason)) { return $null }
                # A protocol handler that drops after delivery (icmp_rcv ignoring a broadcast echo).
                if ($kf -eq 'Delivered' -and $kr -eq $Trace.Reason) { return $null }
            }
            'Forwarded' { if ($kf -eq 'Forwarded' -and (-not $Kernel.outDev -or $Trace.Egress -like "*/$($Kernel.outDev)")) { return $null } }
            'Consumed' {
                if ($kf -eq 'Consumed') { return $null }
                # A fragment held in the reassembly queue (ip_defrag) is what the kernel record calls Queued.
                if ($kf -eq 'Queued' -and $Trace.Reason -match 'ip_defrag|ipv6_frag_rcv') { return $null }
            }
        }
        return "model $($Trace.Fate) ($($Trace.Reason)); kernel $kf $kr"
    }
}

AfterAll {
    Remove-Item -Recurse -Force $script:tmp -ErrorAction SilentlyContinue
}

Describe 'Module' {
    It 'exports its cmdlets' {
        $names = (Get-Module PktFlow).ExportedCmdlets.Keys | Sort-Object
        $names | Should -Be @('Compare-PktFlowKernel', 'Get-PktFlowBpfMap', 'Get-PktFlowConntrack', 'Get-PktFlowCounter', 'Get-PktFlowDevice', 'Get-PktFlowNexthop', 'Get-PktFlowRoute', 'Get-PktFlowRouteCache', 'Get-PktFlowRule', 'Get-PktFlowSet', 'Get-PktFlowSocket', 'Import-PktFlowTopology', 'Invoke-PacketFlow', 'New-PktFlowTopology', 'Show-PacketFlow')
    }
    It 'declares PacketTrace as the output of Invoke-PacketFlow' {
        (Get-Command Invoke-PacketFlow).OutputType.Type | Should -Be ([PktFlow.PacketTrace])
    }
    It 'requires PowerShell 7.4' {
        (Get-Module PktFlow).PowerShellVersion | Should -Be ([version]'7.4')
    }
}

Describe 'Invoke-PacketFlow on the bundled captures' {
    BeforeDiscovery {
        $script:scenarios = Get-ChildItem (Join-Path $PSScriptRoot '../../captures') -Directory |
            Where-Object { Test-Path (Join-Path $_.FullName 'kernel.json') } |
            ForEach-Object { @{ Name = $_.Name; Dir = $_.FullName } }
    }

    Context '<Name>' -ForEach $scenarios {
        BeforeAll {
            $kernel = Get-Content (Join-Path $Dir 'kernel.json') -Raw | ConvertFrom-Json
            $pcap = Join-Path $Dir $kernel.pcap
            $script:traces = @(Invoke-PacketFlow -Pcap $pcap -WarningAction SilentlyContinue)
            $script:kernel = $kernel
        }

        It 'writes exactly one trace per frame of the capture' {
            $traces.Count | Should -Be $kernel.frames.Count
            ($traces.Frame | Sort-Object) | Should -Be (1..$kernel.frames.Count)
        }

        It 'agrees with the kernel on the fate of every inbound frame it models' {
            $differences = foreach ($k in $kernel.frames | Where-Object direction -eq 'in') {
                $t = $traces | Where-Object Frame -eq $k.frame
                $why = Compare-KernelFate -Kernel $k -Trace $t
                if ($why) { "frame $($k.frame) [$($t.Summary)]: $why" }
            }
            $differences | Should -BeNullOrEmpty
        }

        It 'chooses the route the kernel chose (ip route get) for every forwarded frame' {
            Set-StrictMode -Off
            $checked = 0
            $differences = foreach ($k in $kernel.frames | Where-Object { $_.direction -eq 'in' -and $_.fate -eq 'Forwarded' -and $_.routeGet }) {
                $t = $traces | Where-Object Frame -eq $k.frame
                $via = if ($k.routeGet -match ' via (\S+)') { $Matches[1] } else { $null }
                $dev = if ($k.routeGet -match ' dev (\S+)') { $Matches[1] } else { $null }
                $checked++
                if (($via -and $t.Route -notmatch " via $([regex]::Escape($via)) ") -or ($t.Egress -ne "host/$dev")) {
                    "frame $($k.frame): kernel '$($k.routeGet)', model route '$($t.Route)' out $($t.Egress)"
                }
            }
            $differences | Should -BeNullOrEmpty
            if ($kernel.frames | Where-Object { $_.direction -eq 'in' -and $_.fate -eq 'Forwarded' }) { $checked | Should -BeGreaterThan 0 }
        }

        It 'traces every frame the host sent out of the device the capture saw it on (Observe mode)' {
            $differences = foreach ($k in $kernel.frames | Where-Object direction -eq 'out') {
                $t = $traces | Where-Object Frame -eq $k.frame
                if ($t.Fate -notin 'Transmitted', 'Forwarded' -or $t.Egress -ne $t.Ingress) { "frame $($k.frame) [$($t.Summary)]: $($t.Fate) ($($t.Reason)) out $($t.Egress)" }
            }
            $differences | Should -BeNullOrEmpty
        }

        It 'in Inject mode receives even the frames the host sent' {
            $injected = @(Invoke-PacketFlow -Pcap $pcap -Mode Inject -WarningAction SilentlyContinue)
            $injected.Count | Should -Be $traces.Count
            ($injected | Where-Object { $_.Path[0].Function -ne 'eth_type_trans' }) | Should -BeNullOrEmpty
        }
    }
}

Describe 'Results' {
    BeforeAll {
        $script:pcap = Get-Item (Join-Path $captures 'local-delivery/local-delivery.pcap')
        $script:some = @(Invoke-PacketFlow -Pcap $pcap.FullName -WarningAction SilentlyContinue)
    }
    It 'have the documented shape under ConvertTo-Json' {
        $json = $some[0] | ConvertTo-Json -Depth 5 | ConvertFrom-Json
        $json.PSObject.Properties.Name | Should -Be @('File', 'Frame', 'Timestamp', 'TimestampNs', 'Length', 'CapturedLength', 'Summary', 'Ingress', 'Path', 'Route', 'Egress', 'Fate', 'Reason', 'Generated', 'Notes', 'Outcomes', 'CaptureHashed', 'GeneratedTraces', 'CausedBy', 'Later', 'GeneratedBy', 'IsCopy', 'CopyOf')
        $json.Path[0].PSObject.Properties.Name | Should -Be @('Namespace', 'Device', 'Stage', 'Function', 'Family', 'Hook', 'Priority', 'Table', 'Chain', 'Rule', 'Verdict', 'Detail', 'RuleHandle')
    }
    It 'carry the packets the kernel sends in answer as child traces' {
        $cause = $some | Where-Object { $_.GeneratedTraces.Count -gt 0 } | Select-Object -First 1
        $cause | Should -Not -BeNullOrEmpty
        $child = $cause.GeneratedTraces[0]
        $child.CausedBy | Should -Be $cause.Frame
        $child.Path[0].Function | Should -Be $child.GeneratedBy
        (Show-PacketFlow $cause) | Should -Match ([regex]::Escape("↩ $($child.GeneratedBy): "))
    }
    It 'recognise the copies of one packet in a tcpdump -i any capture' {
        $dir = Join-Path $root 'tests/scenarios/docker-any-capture'
        $any = @(Invoke-PacketFlow -Pcap (Join-Path $dir 'wire.pcap') -Lab (Join-Path $dir 'lab.sh') -InjectAt host/any -WarningAction SilentlyContinue)
        $copy = $any | Where-Object Frame -EQ 13
        $copy.CopyOf | Should -Be 11
        $copy.Reason | Should -Be 'copy of frame 11 seen on eth0'
        ($any | Where-Object Frame -EQ 11).Ingress | Should -Be 'host/veth1'
        ($copy | Format-List | Out-String) | Should -Match 'CopyOf\s+: 11'
    }
    It 'format as a table by default with the fate column' {
        ($some | Select-Object -First 3 | Out-String) | Should -Match 'Fate'
    }
    It 'take pipeline input from Get-ChildItem' {
        $viaPipe = @(Get-Item $pcap.FullName | Invoke-PacketFlow -WarningAction SilentlyContinue)
        $viaPipe.Count | Should -Be $some.Count
    }
    It 'stop after -First' {
        @(Invoke-PacketFlow -Pcap $pcap.FullName -First 2 -WarningAction SilentlyContinue).Count | Should -Be 2
    }
    It 'keep only what -Filter selects' {
        $arp = @(Invoke-PacketFlow -Pcap $pcap.FullName -Filter 'arp' -WarningAction SilentlyContinue)
        $arp.Count | Should -BeGreaterThan 0
        $arp.Count | Should -BeLessThan $some.Count
        $arp | ForEach-Object { $_.Summary | Should -Match '^ARP' }
    }
    It 'reject a bad -Filter with an error that names the column' {
        { Invoke-PacketFlow -Pcap $pcap.FullName -Filter 'tcp prot 80' -ErrorAction Stop } | Should -Throw -ErrorId 'PktFlow.FilterSyntax*'
    }
    It 'are drawn by Show-PacketFlow with verdicts beside the stages' {
        $dropped = $some | Where-Object Fate -eq 'Dropped' | Select-Object -First 1
        $text = Show-PacketFlow $dropped
        $text | Should -Match 'DROPPED'
        $text | Should -Match 'ip_rcv_core|ip_route_input|ip_error|icmp_rcv'
    }
}

Describe 'Unresolved next hops' {
    It 'say what became of a queued packet once later packets decided it' {
        $dir = Join-Path $root 'tests/scenarios/neigh-unresolved'
        $r = @(Invoke-PacketFlow -Pcap (Join-Path $dir 'wire.pcap') -Lab (Join-Path $dir 'lab.sh') -InjectAt eth0 -WarningAction SilentlyContinue)
        $failed = $r | Where-Object Frame -eq 3
        $failed.Later.Reason | Should -Be 'NEIGH_FAILED'
        $failed.Later.Answered | Should -BeTrue
        ($failed.GeneratedTraces | Where-Object GeneratedBy -eq 'arp_solicit').Count | Should -Be 2
        $pushedOut = $r | Where-Object Frame -eq 11
        $pushedOut.Later.Reason | Should -Be 'NEIGH_QUEUEFULL'
        $pushedOut.Later.Answered | Should -BeFalse
    }
}

Describe 'Bad input' {
    It 'names the file and offset of a corrupt record and still returns the frames before it' {
        $good = Get-Item (Join-Path $captures 'local-delivery/local-delivery.pcap')
        $bytes = [IO.File]::ReadAllBytes($good.FullName)
        $cut = Join-Path $tmp 'cut.pcap'
        [IO.File]::WriteAllBytes($cut, $bytes[0..($bytes.Length - 10)])
        $traces = @(Invoke-PacketFlow -Pcap $cut -ErrorVariable errs -ErrorAction SilentlyContinue -WarningAction SilentlyContinue)
        $traces.Count | Should -BeGreaterThan 0
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'PktFlow.Capture.Truncated*'
        $errs[0].Exception.Message | Should -Match 'cut.pcap'
        $errs[0].Exception.Message | Should -Match 'byte \d+'
    }
    It 'says what is wrong with a file that is not a capture' {
        $junk = Join-Path $tmp 'junk.pcap'
        Set-Content -Path $junk -Value 'this is not a capture file'
        Invoke-PacketFlow -Pcap $junk -ErrorVariable errs -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'PktFlow.Capture.BadMagic*'
    }
    It 'stops with the lab file and line of a command it cannot apply' {
        $lab = Join-Path $tmp 'bad.lab'
        Set-Content -Path $lab -Value "ip link set eth0 up`nip route add 10.0.0.0/8 via 10.9.9.9"
        $pcap = Get-Item (Join-Path $captures 'local-delivery/local-delivery.pcap')
        { Invoke-PacketFlow -Pcap $pcap.FullName -Lab $lab -ErrorAction Stop } | Should -Throw -ExpectedMessage '*bad.lab:2*'
    }
    It 'refuses a rule it cannot evaluate, naming the file, line and expression, unless -AllowUnsupported' {
        $lab = Join-Path $tmp 'osf.lab'
        $src = @(Get-Content (Join-Path $captures 'local-delivery/lab.sh'))
        $nft = @("nft -f - <<'NFT'", 'table inet t {', '    chain in {', '        type filter hook input priority 0; policy accept;', '        osf name "Linux" drop', '    }', '}', 'NFT')
        Set-Content -Path $lab -Value ($src + $nft)
        $line = $src.Count + 5
        $pcap = Get-Item (Join-Path $captures 'local-delivery/local-delivery.pcap')
        { Invoke-PacketFlow -Pcap $pcap.FullName -Lab $lab -ErrorAction Stop } | Should -Throw -ExpectedMessage "*osf.lab:$($line):*unsupported: osf*"
        $err = $null
        try { Import-PktFlowTopology -Lab $lab -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'PktFlow.LabError*'
        $err.Exception.Line | Should -Be $line
        # allowed: the rule loads, the load warns once, and every packet that meets it says it was skipped
        $topo = Import-PktFlowTopology -Lab $lab -AllowUnsupported -WarningVariable warns -WarningAction SilentlyContinue
        ($warns | Out-String) | Should -Match 'unsupported \(namespace host, rule table inet t chain in handle \d+'
        $traces = @(Invoke-PacketFlow -Pcap $pcap.FullName -Lab $lab -AllowUnsupported -WarningAction SilentlyContinue)
        $met = @($traces | Where-Object { $_.Notes -match '^unsupported: table inet t chain in handle \d+ ''osf name "Linux" drop'' was skipped' })
        $met.Count | Should -BeGreaterThan 0
        @($met | Where-Object Fate -EQ 'Delivered').Count | Should -BeGreaterThan 0
        @(Invoke-PacketFlow -Pcap $pcap.FullName -Topology $topo -WarningAction SilentlyContinue).Count | Should -Be $traces.Count
    }
    It 'names the devices when -InjectAt does not exist' {
        $pcap = Get-Item (Join-Path $captures 'local-delivery/local-delivery.pcap')
        { Invoke-PacketFlow -Pcap $pcap.FullName -InjectAt 'host/nope0' -ErrorAction Stop } | Should -Throw -ExpectedMessage '*eth0*'
    }
}

Describe 'Topology' {
    It 'imports a lab and lists the routes the kernel would make' {
        $lab = Join-Path $tmp 'r.lab'
        Set-Content -Path $lab -Value "ip link set eth0 up`nip addr add 10.1.0.1/24 dev eth0"
        $routes = Import-PktFlowTopology -Lab $lab | Get-PktFlowRoute
        ($routes | ForEach-Object ToString) | Should -Contain '10.1.0.0/24 dev eth0 proto kernel scope link src 10.1.0.1'
    }
    It 'reads the client sockets a lab''s traffic script opens, and the sender behind masquerade they name' {
        $dir = Join-Path $root 'tests/scenarios/docker-published-port'
        $topo = Import-PktFlowTopology -Lab (Join-Path $dir 'lab.sh') -Traffic (Join-Path $dir 'traffic.sh')
        ($topo.Namespace('c2').ClientSockets | ForEach-Object { $_.Describe() }) | Should -Be 'tcp *:42001 -> 192.168.1.2:9000'
        $first = (Invoke-PacketFlow -Pcap (Join-Path $dir 'wire.pcap') -Topology $topo -InjectAt host/eth0 | Where-Object Frame -EQ 13).Path[0]
        $first.Namespace | Should -Be 'c2'
        $first.Detail | Should -Match 'c2 has a socket tcp 172\.17\.0\.3:42001 -> 192\.168\.1\.2:9000'
        # the lab file found next to the capture brings its traffic script along
        (Invoke-PacketFlow -Pcap (Join-Path $dir 'wire.pcap') -InjectAt host/eth0 -WarningAction SilentlyContinue | Where-Object Frame -EQ 13).Path[0].Namespace | Should -Be 'c2'
    }
    It 'builds a topology inline and lists its devices across namespaces' {
        $topo = 'ip link set eth0 up', 'ip netns add c1', 'ip link add v1 type veth peer name eth0 netns c1' | New-PktFlowTopology
        $devs = $topo | Get-PktFlowDevice
        ($devs | Where-Object Namespace -eq 'c1').Name | Should -Contain 'eth0'
        ($devs | Where-Object Name -eq 'v1').PeerNamespace | Should -Be 'c1'
        ($devs | Format-Table | Out-String) | Should -Match 'c1/eth0'
    }
    It 'lists a route through a nexthop group as ip route does, and traces which nexthop the hash chose' {
        $lines = 'ip link add up1 type veth peer name q1', 'ip link add up2 type veth peer name q2', 'ip link set up1 up', 'ip link set up2 up',
            'ip link set q1 up', 'ip link set q2 up', 'ip addr add 10.0.1.1/24 dev up1', 'ip addr add 10.0.2.1/24 dev up2',
            'ip nexthop add id 1 via 10.0.1.2 dev up1', 'ip nexthop add id 2 via 10.0.2.2 dev up2', 'ip nexthop add id 10 group 1/2,3',
            'ip route add 198.51.100.0/24 nhid 10'
        $topo = $lines | New-PktFlowTopology
        $route = $topo | Get-PktFlowRoute | Where-Object NexthopId -eq 10
        ($topo | Get-PktFlowNexthop | Where-Object Id -eq 10).ToString() | Should -Be 'id 10 group 1/2,3'
        ($topo | Get-PktFlowNexthop | Format-Table | Out-String) | Should -Match 'id 1 via 10\.0\.1\.2 dev up1'
        $route.ToString() | Should -Be '198.51.100.0/24 nhid 10 nexthop via 10.0.1.2 dev up1 weight 1 nexthop via 10.0.2.2 dev up2 weight 3'
        $j = Compare-PktFlowKernel -Scenario (Join-Path $root 'tests/scenarios/ecmp6-multipath')
        $j.Agreed | Should -Be $j.Judged
        $stages = $j.Frames | ForEach-Object { $_.Trace.Path } | Where-Object Function -eq 'fib6_select_path'
        $stages.Count | Should -BeGreaterThan 0
        $stages[0].Detail | Should -Match 'hash policy 0 .*: hash \d+ -> via 2001:db8:[ab]::2 dev up[12]'
    }
    It 'imports a snapshot of a live host (scripts/pktflow-collect.sh)' {
        $snap = Join-Path $root 'tests/PktFlow.Core.Tests/TestData/snapshot/lab'
        # its pfsnap-r/nft.json lists iptables-nft's MASQUERADE as an xt target: that table is evaluated from iptables.txt
        $topo = Import-PktFlowTopology -Snapshot $snap -ErrorAction Stop
        ($topo.Namespaces | Where-Object Name -eq 'pfsnap-r').Nft.AllRules | Where-Object Unsupported | Should -BeNullOrEmpty
        $topo.Namespaces.Name | Should -Contain 'pfsnap-r'
        ($topo | Get-PktFlowRoute -Namespace 'pfsnap-r' | Where-Object Table -eq 255).Count | Should -BeGreaterThan 0
        # ip -j rule is the namespace's rule list, printed as ip rule prints it
        ($topo | Get-PktFlowRule -Namespace 'pfsnap-r' -Family V4 | ForEach-Object ToString) |
            Should -Be @('0: from all lookup local', '100: from 10.0.2.0/24 lookup 100', '200: from all fwmark 0x2 lookup 200', '32766: from all lookup main', '32767: from all lookup default')
        ($topo | Get-PktFlowRule -Namespace 'pfsnap-r' | Format-Table | Out-String) | Should -Match 'V6 +0: from all lookup local'
        { Import-PktFlowTopology -Snapshot (Join-Path $tmp 'nope') -ErrorAction Stop } | Should -Throw
    }
    It 'infers a host when there is no lab, and says so' {
        $src = Get-Item (Join-Path $captures 'local-delivery/local-delivery.pcap')
        $lone = Join-Path $tmp 'lone.pcap'
        Copy-Item $src.FullName $lone
        $traces = @(Invoke-PacketFlow -Pcap $lone -WarningVariable warns -WarningAction SilentlyContinue)
        $warns | Should -Match 'inferred'
        $traces[0].Notes | Should -Match 'inferred'
    }
}

Describe 'State after a replay' {
    BeforeAll {
        $script:sc = Join-Path $root 'tests/scenarios/nft-limit-quota-sets'
        $script:wire = Join-Path $sc 'wire.pcap'
        $script:lab = Join-Path $sc 'lab.sh'
    }
    It 'lists counters, policies and quotas like nft list ruleset (Get-PktFlowCounter)' {
        $null = Invoke-PacketFlow -Pcap $wire -Lab $lab -InjectAt host/eth0 -StateVariable st
        $st | Should -HaveCount 1
        $c = Get-PktFlowCounter -State $st -Namespace host
        ($c | Where-Object { $_.Kind -eq 'Counter' -and $_.Name -eq 'pings' }).Packets | Should -Be 1
        $q = $c | Where-Object { $_.Kind -eq 'Quota' -and $_.Name -eq 'q5002' }
        $q.Bytes | Should -Be 256
        $q.Quota | Should -Be 256
        # iptables-nft rules count like iptables -L -v: the -m limit ACCEPT took 2 of the 4 datagrams to 5011
        ($c | Where-Object { $_.Table -eq 'filter' -and $_.Kind -eq 'Rule' -and $_.Rule -like '*limit rate 2/second*' }).Packets | Should -Be 2
        # without -State: the last replay of this session
        (Get-PktFlowCounter host -Table t | Where-Object Kind -eq 'Policy').Packets | Should -BeGreaterThan 0
        (Get-PktFlowCounter -State $st | Format-Table | Out-String -Width 200) | Should -Match 'quota q5002'
    }
    It 'lists the set elements rules added, with the time left (Get-PktFlowSet)' {
        # stop right after the repeat to port 5004: the element is still there
        $null = Invoke-PacketFlow -Pcap $wire -Lab $lab -InjectAt host/eth0 -First 38
        $e = Get-PktFlowSet -Namespace host -Name seen
        $e.Element | Should -Be '10.1.0.2 . 5004'
        $e.Dynamic | Should -BeTrue
        $e.Expires.TotalSeconds | Should -BeLessThan 1
        $e.Timeout.TotalSeconds | Should -Be 1
    }
    It 'lists the objects an object map chose and map data taken from packets, as nft listed them (nft-objects)' {
        $dir = Join-Path $root 'tests/scenarios/nft-objects'
        $null = Invoke-PacketFlow -Pcap (Join-Path $dir 'wire.pcap') -Lab (Join-Path $dir 'lab.sh') -InjectAt host/eth0
        $c = Get-PktFlowCounter host -Table t
        ($c | Where-Object Name -eq 'from_client').Packets | Should -Be 19
        ($c | Where-Object Name -eq 'from_other').Bytes | Should -Be 76
        ($c | Where-Object Name -eq 'qover').Bytes | Should -Be 300
        (Get-PktFlowSet -Namespace host -Name pmark).Data | Should -Be @('0x00000007', '0x00000009')
        (Get-PktFlowSet -Namespace host -Name cmap)[0].Data | Should -Be '"from_client"'
    }
    It 'lists conntrack like conntrack -L (Get-PktFlowConntrack), agreeing with the kernel' {
        $dir = Join-Path $root 'tests/scenarios/fwd-stateful'
        $null = Invoke-PacketFlow -Pcap (Join-Path $dir 'wire.pcap') -Lab (Join-Path $dir 'lab.sh') -InjectAt host/eth0
        $ct = Get-PktFlowConntrack host
        $kernel = (Get-Content (Join-Path $dir 'kernel.json') -Raw | ConvertFrom-Json).namespaces.host.conntrack
        $ct | Should -HaveCount $kernel.Count
        $tcp = $ct | Where-Object Protocol -eq 'tcp'
        $tcp.State | Should -Be ($kernel | Where-Object proto -eq 'tcp').state
        $tcp.Flags | Should -Contain 'ASSURED'
        $tcp.Line | Should -Match '^tcp\s+6 \d+ TIME_WAIT src=10\.1\.0\.2 dst=10\.2\.0\.2 sport=40001 dport=80 src=10\.2\.0\.2 dst=10\.1\.0\.2 sport=80 dport=40001 \[ASSURED\] mark=0 use=1$'
        ($ct | Format-Table | Out-String) | Should -Match 'TIME_WAIT'
    }
    It 'lists SCTP associations with their states (Get-PktFlowConntrack), as the kernel did in ct-sctp' {
        $dir = Join-Path $root 'tests/scenarios/ct-sctp'
        $null = Invoke-PacketFlow -Pcap (Join-Path $dir 'wire.pcap') -Lab (Join-Path $dir 'lab.sh') -InjectAt host/eth1
        $sctp = Get-PktFlowConntrack host | Where-Object Protocol -eq 'sctp' | Sort-Object Original
        $kernel = (Get-Content (Join-Path $dir 'kernel.json') -Raw | ConvertFrom-Json).namespaces.host.conntrack | Where-Object proto -eq 'sctp'
        $sctp | Should -HaveCount $kernel.Count
        ($sctp.State | Sort-Object) | Should -Be ($kernel.state | Sort-Object)
        $sctp.Flags | Should -Contain 'ASSURED'
        ($sctp | Where-Object State -eq 'CLOSED').Line | Should -Match '^sctp\s+132 \d+ CLOSED src=10\.1\.0\.2 dst=203\.0\.113\.53 sport=5000 dport=3868 '
    }
    It 'lists the path MTUs learned from ICMP errors like ip route show cache (Get-PktFlowRouteCache), until they expire' {
        $dir = Join-Path $root 'tests/scenarios/pmtu-learned'
        # after the forged errors (frame 12): 1280 from the router, 1300 from a quoted echo reply, 552 clamped and locked
        $null = Invoke-PacketFlow -Pcap (Join-Path $dir 'wire.pcap') -Lab (Join-Path $dir 'lab.sh') -InjectAt host/eth0 -First 12 -WarningAction SilentlyContinue
        $cache = Get-PktFlowRouteCache host
        $cache.Destination | Should -Be @('10.3.0.2', '10.4.0.4', '10.4.0.5')
        $cache.Mtu | Should -Be @(1280, 1300, 552)
        $cache.Locked | Should -Be @($false, $false, $true)
        $cache[2].Line | Should -Match '^10\.4\.0\.5 via 10\.1\.0\.1 dev eth0 cache expires \d+sec mtu lock 552$'
        ($cache | Format-Table | Out-String) | Should -Match 'lock 552'
        # at the end (mtu_expires 15 s): only the one learned again from the last packet too big
        $null = Invoke-PacketFlow -Pcap (Join-Path $dir 'wire.pcap') -Lab (Join-Path $dir 'lab.sh') -InjectAt host/eth0 -WarningAction SilentlyContinue
        (Get-PktFlowRouteCache host).Destination | Should -Be '2001:db8:3::2'
    }
    It 'lists the TCP sockets with their own state like ss -tan (Get-PktFlowSocket): TIME_WAIT with its timer, then gone' {
        $dir = Join-Path $root 'tests/scenarios/tproxy-timewait'
        # after frame 43 the host's ends of three connections it closed first are in TIME_WAIT
        $null = Invoke-PacketFlow -Pcap (Join-Path $dir 'wire.pcap') -Lab (Join-Path $dir 'lab.sh') -InjectAt host/eth0 -First 43
        $host_ = Get-PktFlowSocket host
        ($host_ | Where-Object State -eq 'LISTEN').Local | Should -Be @('*:8080', '*:9000')
        $tw = Get-PktFlowSocket host -TcpState TIME_WAIT
        $tw.Local | Should -Be @('198.51.100.10:80', '198.51.100.10:82', '10.1.0.1:9000')
        $tw.Peer | Should -Be @('10.1.0.2:40001', '10.1.0.2:40002', '10.1.0.2:40004')
        $tw[0].Transparent | Should -BeTrue
        $tw[2].Transparent | Should -BeFalse
        $tw | ForEach-Object { $_.Timer.TotalSeconds | Should -BeGreaterThan 50 }
        ($tw | Format-Table | Out-String) | Should -Match 'TIME_WAIT\s+10\.1\.0\.1:9000'
        # the client's ends were closed (LAST_ACK, then the ACK of its FIN): nothing left there
        Get-PktFlowSocket client | Should -BeNullOrEmpty
        # at the end every one of those has been reused, killed by a reset or has expired (60 s); the two
        # of the last connections remain, as the kernel's ss -tan listed them after the traffic
        $null = Invoke-PacketFlow -Pcap (Join-Path $dir 'wire.pcap') -Lab (Join-Path $dir 'lab.sh') -InjectAt host/eth0
        (Get-PktFlowSocket host -TcpState TIME_WAIT).Peer | Should -Be @('10.1.0.2:40006', '10.1.0.2:40007')
    }
    It 'lists the UDP sockets like ss -uan (Get-PktFlowSocket -Protocol udp): connected by their program, or closed, as the kernel listed them in socket-lifecycle' {
        $dir = Join-Path $root 'tests/scenarios/socket-lifecycle'
        $null = Invoke-PacketFlow -Pcap (Join-Path $dir 'wire.pcap') -Lab (Join-Path $dir 'lab.sh') -InjectAt host/eth0
        $udp = Get-PktFlowSocket host -Protocol udp
        $udp | ForEach-Object { $_.Protocol | Should -Be 'udp' }
        ($udp | Where-Object State -eq 'UNCONN').Local | Should -Be @('*:5001', '*:5003')
        ($udp | Where-Object State -eq 'ESTABLISHED' | ForEach-Object { "$($_.Local) $($_.Peer)" }) | Should -Be @('10.1.0.1:5000 10.1.0.2:41000', '10.1.0.1:5001 10.1.0.2:41000', '10.1.0.1:5001 10.1.0.3:41000')
        # the listener without fork closed once it accepted: only the forking one listens
        (Get-PktFlowSocket host -Protocol tcp -TcpState LISTEN).Local | Should -Be '*:81'
        ($udp | Format-Table | Out-String) | Should -Match 'udp\s+UNCONN\s+\*:5003'
    }
    It 'lists the maps a tc program kept like bpftool map dump (Get-PktFlowBpfMap), as the kernel had them in tc-bpf-tailcall' {
        $dir = Join-Path $root 'tests/scenarios/tc-bpf-tailcall'
        $null = Invoke-PacketFlow -Pcap (Join-Path $dir 'wire.pcap') -Lab (Join-Path $dir 'lab.sh') -InjectAt host/eth0
        $maps = Get-PktFlowBpfMap host
        $maps[0] | Should -BeOfType ([PktFlow.Bpf.BpfMapListing])
        # hits: 9 first runs, 3 TCP, 4 UDP, 3 drops (bpftool-maps.json, taken after the same traffic)
        (Get-PktFlowBpfMap host -Name hits).ValueNumber | Should -Be @(9, 3, 4, 3)
        (Get-PktFlowBpfMap -Name chain).Line | Should -Be 'key: 00 00 00 00  value: 21 00 00 00'
        $jmp = Get-PktFlowBpfMap host -Name jmp
        $jmp.Key | Should -Be @('06 00 00 00', '11 00 00 00')
        $jmp.Value | Should -Be @('tc_entry', 'tc_entry')
        $jmp[0].Type | Should -Be 'prog_array'
        Get-PktFlowBpfMap host -Name jmp_nopin | Should -BeNullOrEmpty
        ($maps | Format-Table | Out-String -Width 200) | Should -Match 'tc_entry\s+ports\s+hash\s+50 00 06 00\s+02 00 00 00 00 00 00 00'
    }
    It 'lists packets and bytes per direction when accounting is on (Get-PktFlowConntrack), as the kernel did in ct-acct-expiration' {
        $dir = Join-Path $root 'tests/scenarios/ct-acct-expiration'
        $null = Invoke-PacketFlow -Pcap (Join-Path $dir 'wire.pcap') -Lab (Join-Path $dir 'lab.sh') -InjectAt host/eth0
        $ct = Get-PktFlowConntrack host
        $kernel = (Get-Content (Join-Path $dir 'kernel.json') -Raw | ConvertFrom-Json).namespaces.host.conntrack
        foreach ($k in $kernel) {
            $m = $ct | Where-Object Protocol -eq $k.proto
            @($m.OriginalPackets, $m.OriginalBytes, $m.ReplyPackets, $m.ReplyBytes) | Should -Be @($k.original.packets, $k.original.bytes, $k.reply.packets, $k.reply.bytes)
        }
        ($ct | Where-Object Protocol -eq 'udp').Line | Should -Match 'dport=7000 packets=3 bytes=98 src=10\.1\.0\.1 dst=10\.1\.0\.2 sport=7000 dport=41000 packets=3 bytes=98 \[ASSURED\] mark=0'
        ($ct | Format-Table | Out-String -Width 400) | Should -Match '3/3\s+252/252'
    }
    It 'says when there was no replay to read' {
        { Get-PktFlowConntrack -State @() } | Should -Throw -ErrorId 'PktFlow.NoReplay,PktFlow.PowerShell.GetPktFlowConntrackCommand'
    }
}

Describe 'Random rules' {
    BeforeAll {
        $text = (Get-Content (Join-Path $root 'tests/scenarios/nft-limit-quota-sets/lab.sh') -Raw) -replace 'udp dport 5001 limit rate 2/second burst 3 packets accept', 'udp dport 5001 numgen random mod 2 0 accept' `
            -replace '--dport 5011 -m limit --limit 2/sec --limit-burst 2 -j ACCEPT', '--dport 5011 -m statistic --mode random --probability 0.25 -j ACCEPT'
        $script:rlab = Join-Path $tmp 'random.lab'
        Set-Content -Path $rlab -Value $text
        $script:wire = Join-Path $root 'tests/scenarios/nft-limit-quota-sets/wire.pcap'
        function script:Fates($seed) { (Invoke-PacketFlow -Pcap $wire -Lab $rlab -InjectAt host/eth0 -Filter 'udp and (dst port 5001 or dst port 5011)' -Seed $seed | ForEach-Object { $_.Fate }) -join ',' }
    }
    It 'give the same replay for the same -Seed, another for another seed' {
        $a = Fates 7
        $a | Should -Be (Fates 7)
        @(1..6 | ForEach-Object { Fates $_ } | Select-Object -Unique).Count | Should -BeGreaterThan 1
    }
    It 'list every outcome with its probability with -Outcomes All, the seeded one taken' {
        $t = Invoke-PacketFlow -Pcap $wire -Lab $rlab -InjectAt host/eth0 -Filter 'udp and dst port 5011' -Outcomes All -Seed 3
        $t | Should -HaveCount 4
        foreach ($x in $t) {
            $x.Outcomes | Should -HaveCount 2
            ($x.Outcomes | Measure-Object Probability -Sum).Sum | Should -Be 1
            @($x.Outcomes | Where-Object Taken) | Should -HaveCount 1
            $taken = $x.Outcomes | Where-Object Taken
            $taken.Fate | Should -BeLike "$($x.Fate)*"
        }
        ($t[0].Outcomes | Where-Object Verdict -eq 'Drop').Probability | Should -Be 0.75
        ($t[0] | Format-List | Out-String) | Should -Match 'Outcomes'
    }
}

Describe 'Invoke-PacketFlow -LabTime' {
    It 'runs a bridge''s STP timers from the lab''s time, and takes the bridge as settled without it' {
        $dir = Join-Path $PSScriptRoot '../scenarios/bridge-stp'
        $done = (Get-Content (Join-Path $dir 'kernel.json') -Raw | ConvertFrom-Json).labDone
        $at = [DateTimeOffset]::FromUnixTimeMilliseconds([long]([decimal]$done * 1000))
        $first = Invoke-PacketFlow -Pcap (Join-Path $dir 'wire.pcap') -Lab (Join-Path $dir 'lab.sh') -InjectAt host/any -LabTime $at -First 1
        $first.Reason | Should -Be 'BRIDGE_INGRESS_STP_STATE'
        ($first.Path | Where-Object Function -eq 'br_handle_frame').Detail | Should -Match 'listening state'
        $settled = Invoke-PacketFlow -Pcap (Join-Path $dir 'wire.pcap') -Lab (Join-Path $dir 'lab.sh') -InjectAt host/any -First 1
        ($settled.Path | Where-Object Function -eq 'br_stp_timer').Detail | Should -Match 'taken as settled'
        ($settled.Path | Where-Object Function -eq 'br_handle_frame').Detail | Should -Match 'forwarding state'
    }
}
