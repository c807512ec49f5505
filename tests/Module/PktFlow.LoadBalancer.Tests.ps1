# Pester 5: the load balancer from the cmdlet, on a real capture (a client connecting to a VIP,
# recorded by tests/Kernel/record.sh for the lb-ipip-gue scenario) and the backends of captures/load-balancer.
BeforeAll {
    $script:root = Resolve-Path (Join-Path $PSScriptRoot '../..')
    $modulePath = if ($env:PKTFLOW_MODULE) { $env:PKTFLOW_MODULE } else { Join-Path $root 'out/PktFlow/PktFlow.psd1' }
    Import-Module $modulePath -Force
    $script:pcap = Join-Path $root 'tests/scenarios/lb-ipip-gue/wire.pcap'
    $script:dir = Join-Path $root 'captures/load-balancer'
    $script:lab = Join-Path $dir 'backends.lab'
    function script:Invoke-Lb([string] $Mode) {
        Invoke-PacketFlow -Pcap $pcap -Lab $lab -LoadBalancer (Join-Path $dir "$Mode.json") -InjectAt eth0 -Filter 'dst host 10.100.0.10 and tcp port 80'
    }
}

Describe 'Invoke-PacketFlow -LoadBalancer' {
    It 'delivers every packet of the connection to one backend in <Mode> mode' -ForEach @(
        @{ Mode = 'nat'; Xmit = 'lb_xmit_nat' }, @{ Mode = 'dsr'; Xmit = 'lb_xmit_dsr' },
        @{ Mode = 'gue'; Xmit = 'lb_xmit_gue' }, @{ Mode = 'ipip'; Xmit = 'lb_xmit_ipip' }) {
        $traces = @(Invoke-Lb $Mode)
        $traces.Count | Should -Be 4
        $traces | ForEach-Object { $_.Fate | Should -Be 'Delivered'; $_.Reason | Should -Be 'tcp_v4_rcv' }
        # The load balancer's stages come first, under its own name, then the backend's namespace.
        $traces | ForEach-Object { $_.Path[0].Namespace | Should -Be 'lb'; $_.Path[1].Function | Should -Be $Xmit }
        @($traces | ForEach-Object { $_.Path[-1].Namespace } | Sort-Object -Unique).Count | Should -Be 1
        $traces[0].Path[0].Detail | Should -Match '^new flow: maglev'
        $traces[1..3] | ForEach-Object { $_.Path[0].Detail | Should -Match 'sticks to' }
    }
    It 'decapsulates GUE in the backend before the socket' {
        $t = Invoke-Lb gue | Select-Object -First 1
        $fns = $t.Path.Function
        foreach ($f in 'gue_udp_recv', 'ipip_rcv', 'ip_tunnel_rcv') { $fns | Should -Contain $f }
        ($t.Path | Where-Object Function -eq 'tcp_v4_rcv').Device | Should -Be 'tun0'
        ($t | Show-PacketFlow | Out-String) | Should -Match 'namespace lb'
    }
    It 'stops with the JSON path of a bad load balancer file' {
        $bad = Join-Path ([IO.Path]::GetTempPath()) "pktflow-lb-$PID.json"
        Set-Content -Path $bad -Value '{ "vips": [ { "address": "10.100.0.10", "port": 80, "scheduler": "lc", "backends": [ { "address": "10.2.1.2" } ] } ] }'
        try {
            { Invoke-PacketFlow -Pcap $pcap -Lab $lab -LoadBalancer $bad -ErrorAction Stop } | Should -Throw -ExpectedMessage '*vips[[]0].scheduler*'
            $err = $null
            try { Invoke-PacketFlow -Pcap $pcap -Lab $lab -LoadBalancer $bad -ErrorAction Stop } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -BeLike 'PktFlow.LoadBalancerConfig*'
        }
        finally { Remove-Item $bad -ErrorAction SilentlyContinue }
    }
    It 'names the backend whose namespace/device is not in the lab' {
        $bad = Join-Path ([IO.Path]::GetTempPath()) "pktflow-lb2-$PID.json"
        Set-Content -Path $bad -Value '{ "vips": [ { "address": "10.100.0.10", "port": 80, "backends": [ { "address": "10.2.1.2", "at": "b9/eth0" } ] } ] }'
        try { { Invoke-PacketFlow -Pcap $pcap -Lab $lab -LoadBalancer $bad -InjectAt eth0 -ErrorAction Stop } | Should -Throw -ExpectedMessage "*vips[[]0].backends[[]0].at*no namespace 'b9'*" }
        finally { Remove-Item $bad -ErrorAction SilentlyContinue }
    }
}

# Issue 5's worked example with the load balancer in front: a Docker-style host (docker0, two containers,
# published ports 8080/8081, masquerade), the capture made by DockerPathTests from the same frames.
Describe 'Invoke-PacketFlow -LoadBalancer in front of a Docker host' {
    BeforeAll {
        $script:docker = @{
            Pcap = Join-Path $dir 'docker-client.pcap'; Lab = Join-Path $dir 'docker-host.lab'
            LoadBalancer = Join-Path $dir 'docker-nat.json'; InjectAt = 'eth0'
        }
        $script:dt = @(Invoke-PacketFlow @docker)
    }
    It 'takes client -> lb -> host -> docker0 -> veth1 -> c1 and the reply back through the host and the lb' {
        $dt.Count | Should -Be 7
        $hops = { param($t) ($t.Path | ForEach-Object { "$($_.Namespace)/$($_.Device)" } | Select-Object -Unique) -join ' ' }
        & $hops $dt[0] | Should -Be 'lb/tcp 10.100.0.10:80 host/eth0 host/docker0 host/veth1 c1/eth0'
        $dt[0].Path[0].Stage | Should -Be 'LbSchedule'
        $dt[0].Fate | Should -Be 'Delivered'
        $dt[0].Path[-1].Function | Should -Be 'tcp_v4_rcv'
        & $hops $dt[1] | Should -Be 'c1/eth0 host/veth1 host/docker0 host/eth0 lb/tcp 10.100.0.10:80'
        $dt[1].Path[-1].Stage | Should -Be 'LbReverseNat'
        ($dt[1].Path | Where-Object Stage -eq 'NfNatManip').Detail | Should -Match 'source 172\.17\.0\.2 -> 192\.168\.1\.1 port 80 -> 8080'
    }
    It 'sends no new flow to c1 once it is marked down' {
        $dt[5].Path[0].Stage | Should -Be 'LbHealth'
        $dt[5].Path[-1].Namespace | Should -Be 'c2'
        $dt[6].Path[-1].Namespace | Should -Be 'c2'
    }
    It 'draws one column per namespace along the path, both ways' {
        $first = ($dt[0] | Show-PacketFlow | Out-String) -split "`n" | Where-Object { $_ -match '^\w[^│]*│' } | Select-Object -First 1
        ($first -split '│' | ForEach-Object Trim) -join ',' | Should -Be 'lb,host,c1'
        $back = ($dt[1] | Show-PacketFlow | Out-String) -split "`n" | Where-Object { $_ -match '^\w[^│]*│' } | Select-Object -First 1
        ($back -split '│' | ForEach-Object Trim) -join ',' | Should -Be 'c1,host,lb'
    }
}
