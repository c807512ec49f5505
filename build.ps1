#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds, tests, demonstrates, benchmarks and packages PktFlow.
.DESCRIPTION
    Tasks:
      Build    compile and assemble the loadable module folder in out/PktFlow
      Test     Build, then xunit and Pester; ends with one line "N passed, N failed"
      Demo     Build, then replay the bundled captures (captures/*/*.pcap) and show the results
      Bench    replay a generated capture and report packets/s and bytes allocated per packet
      Package  Build, then pack out/PktFlow as a .nupkg in out/packages (Install-PSResource accepts it)
      Judge    Build, then replay every recorded scenario (tests/scenarios) and compare with the kernel
      Record   (Linux, root) record a scenario from the real kernel: build.ps1 Record -Scenario NAME
    Run with pwsh from the local tool manifest:  dotnet tool restore && dotnet pwsh ./build.ps1 Test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Test', 'Demo', 'Bench', 'Package', 'Judge', 'Record')]
    [string] $Task = 'Build',
    [string[]] $Scenario,
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = $PSScriptRoot
# `pwsh -File build.ps1 -Scenario a,b` hands over one string "a,b": split it as the shell user meant.
if ($Scenario) { $Scenario = @($Scenario | ForEach-Object { $_ -split ',' } | ForEach-Object Trim | Where-Object { $_ }) }
$out = Join-Path $root 'out'
$moduleDir = Join-Path $out 'PktFlow'

function Invoke-Native([string] $what, [scriptblock] $command) {
    & $command
    if ($LASTEXITCODE -ne 0) { throw "$what failed (exit code $LASTEXITCODE)" }
}

# Live capture (a later issue) needs native libpcap; replaying files never does. Install it where we can.
function Confirm-Libpcap {
    if (-not $IsLinux) { return }
    $found = @('/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib', '/lib/x86_64-linux-gnu') |
        Where-Object { Test-Path $_ } | ForEach-Object { Get-ChildItem -Path $_ -Filter 'libpcap.so*' -ErrorAction SilentlyContinue } | Select-Object -First 1
    if ($found) { return }
    $isRoot = (& id -u) -eq '0'
    if ($isRoot -and (Get-Command apt-get -ErrorAction SilentlyContinue)) {
        Write-Host 'libpcap is missing: installing libpcap0.8 (needed for live capture only)'
        & apt-get install -y -qq libpcap0.8 *> $null
        if ($LASTEXITCODE -ne 0) { & apt-get update -qq *> $null; & apt-get install -y -qq libpcap0.8 *> $null }
        if ($LASTEXITCODE -ne 0) { Write-Warning 'could not install libpcap0.8; live capture will not work (replaying files does not need it)' }
    }
    else {
        Write-Warning 'libpcap is not installed: live capture will not work (replaying files does not need it). Install it: Debian/Ubuntu "apt-get install libpcap0.8", Fedora "dnf install libpcap", macOS ships it.'
    }
}

function Invoke-Build {
    Confirm-Libpcap
    Invoke-Native 'dotnet build' { dotnet build (Join-Path $root 'PktFlow.sln') -c $Configuration --nologo -v q -clp:ErrorsOnly }
    if (Test-Path $moduleDir) { Remove-Item $moduleDir -Recurse -Force }
    Invoke-Native 'dotnet publish' { dotnet publish (Join-Path $root 'src/PktFlow.PowerShell') -c $Configuration -o $moduleDir --nologo -v q -clp:ErrorsOnly }
    # The host provides System.Management.Automation; never ship a copy of it.
    Get-ChildItem $moduleDir -Filter 'System.Management.Automation*' | Remove-Item -Force
    Get-ChildItem $moduleDir -Filter '*.pdb' | Remove-Item -Force
    Copy-Item (Join-Path $root 'module/*') $moduleDir -Recurse -Force
    Write-Host "module assembled in $moduleDir"
}

function Get-Pester {
    $tools = Join-Path $root '.tools/packages'
    $psd1 = Join-Path $tools 'pester/5.7.1/tools/Pester.psd1'
    if (-not (Test-Path $psd1)) {
        Invoke-Native 'restore Pester from NuGet' { dotnet restore (Join-Path $root 'tests/Tools/Tools.csproj') --packages $tools --nologo -v q }
    }
    return $psd1
}

function Invoke-Test {
    Invoke-Build
    $results = Join-Path $out 'test-results'
    if (Test-Path $results) { Remove-Item $results -Recurse -Force }
    # xunit: counts come from the trx file so the closing line can add both runners up.
    dotnet test (Join-Path $root 'tests/PktFlow.Core.Tests') -c $Configuration --no-build --nologo `
        --logger 'trx;LogFileName=xunit.trx' --logger 'console;verbosity=minimal' --results-directory $results
    $xunitExit = $LASTEXITCODE
    $xunitPassed = 0; $xunitFailed = 0
    $trx = Get-ChildItem $results -Filter '*.trx' -Recurse -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($trx) {
        $counters = ([xml](Get-Content $trx.FullName -Raw)).TestRun.ResultSummary.Counters
        $xunitPassed = [int]$counters.passed
        $xunitFailed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout
    }
    elseif ($xunitExit -ne 0) { $xunitFailed = 1 }

    Import-Module (Get-Pester) -Force
    $config = New-PesterConfiguration
    $config.Run.Path = Join-Path $root 'tests/Module'
    $config.Run.PassThru = $true
    $config.Output.Verbosity = 'Normal'
    $config.TestResult.Enabled = $true
    $config.TestResult.OutputPath = Join-Path $results 'pester.xml'
    $env:PKTFLOW_MODULE = Join-Path $moduleDir 'PktFlow.psd1'
    $pester = Invoke-Pester -Configuration $config

    $passed = $xunitPassed + $pester.PassedCount
    $failed = $xunitFailed + $pester.FailedCount + $pester.FailedBlocksCount + $pester.FailedContainersCount
    Write-Host ''
    Write-Host "xunit: $xunitPassed passed, $xunitFailed failed; Pester: $($pester.PassedCount) passed, $($pester.FailedCount) failed"
    Write-Host "$passed passed, $failed failed"
    if ($failed -gt 0 -or $passed -eq 0) { exit 1 }
}

function Invoke-Demo {
    Invoke-Build
    Import-Module (Join-Path $moduleDir 'PktFlow.psd1') -Force
    # Each scenario's main capture is named after its folder (NAME-ethN.pcap are the other NICs' egress).
    $mains = Get-ChildItem (Join-Path $root 'captures') -Directory | ForEach-Object { Get-Item (Join-Path $_.FullName "$($_.Name).pcap") -ErrorAction SilentlyContinue }
    foreach ($pcap in $mains) {
        Write-Host ''
        Write-Host "=== $($pcap.Directory.Name)/$($pcap.Name) ===" -ForegroundColor Cyan
        $traces = Invoke-PacketFlow -Pcap $pcap.FullName -Verbose
        $traces | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
        $traces | Group-Object Fate | Sort-Object Name | ForEach-Object { Write-Host ("{0,-12} {1}" -f $_.Name, $_.Count) }
        $first = $traces | Where-Object Fate -in 'Forwarded', 'Dropped' | Select-Object -First 1
        if ($first) { Show-PacketFlow $first | Write-Host }
    }
}

function Invoke-Bench {
    Invoke-Native 'dotnet run (bench)' { dotnet run --project (Join-Path $root 'tests/PktFlow.Bench') -c Release --nologo -v q }
}

function Invoke-Package {
    Invoke-Build
    $repo = Join-Path $out 'packages'
    New-Item -ItemType Directory -Force -Path $repo | Out-Null
    $name = 'PktFlowLocal'
    if (Get-PSResourceRepository -Name $name -ErrorAction SilentlyContinue) { Unregister-PSResourceRepository -Name $name }
    Register-PSResourceRepository -Name $name -Uri $repo -Trusted
    try {
        Publish-PSResource -Path $moduleDir -Repository $name -SkipDependenciesCheck
        Write-Host "packed: $((Get-ChildItem $repo -Filter 'PktFlow*.nupkg' | Select-Object -First 1).FullName)"
        Write-Host "install with: Register-PSResourceRepository -Name local -Uri '$repo' -Trusted; Install-PSResource PktFlow -Repository local"
    }
    finally { Unregister-PSResourceRepository -Name $name }
}

# The judge: every recorded scenario through the model, a table per scenario, one agreement figure.
function Invoke-Judge {
    Invoke-Build
    Import-Module (Join-Path $moduleDir 'PktFlow.psd1') -Force
    $dirs = Get-ChildItem (Join-Path $root 'tests/scenarios') -Directory | Where-Object { Test-Path (Join-Path $_.FullName 'kernel.json') }
    if ($Scenario) {
        $unknown = @($Scenario | Where-Object { $_ -notin $dirs.Name })
        if ($unknown) { throw "no recorded scenario named $($unknown -join ', ') in tests/scenarios (recorded: $($dirs.Name -join ', '))" }
        $dirs = $dirs | Where-Object Name -in $Scenario
    }
    $report = Join-Path $out 'judge'
    New-Item -ItemType Directory -Force -Path $report | Out-Null
    $all = foreach ($d in $dirs) { Compare-PktFlowKernel -Scenario $d.FullName }
    $all | Sort-Object Scenario | Format-Table Scenario, @{ n = 'Frames'; e = { $_.Judged } }, Agreed, @{ n = 'Agreement'; e = { '{0:P0}' -f $_.Agreement } }, @{ n = 'TCP conns'; e = { if ($_.Sockets.Connections.Total) { "$($_.Sockets.Connections.Agreed)/$($_.Sockets.Connections.Total)" } } }, @{ n = 'Listeners'; e = { if ($_.Sockets.Listeners.Total) { "$($_.Sockets.Listeners.Agreed)/$($_.Sockets.Listeners.Total)" } } }, @{ n = 'UDP'; e = { if ($_.Sockets.Udp.Total) { "$($_.Sockets.Udp.Agreed)/$($_.Sockets.Udp.Total)" } } }, @{ n = 'Seed'; e = { if ($null -ne $_.Seed) { "$($_.Seed) ($($_.SeedsTried) tried)" } } } -AutoSize | Out-String | Write-Host
    foreach ($j in $all) {
        $lines = foreach ($f in $j.Frames | Where-Object { $_.Judged -and -not $_.Agrees }) {
            "frame $($f.Frame) ($($f.Direction)) $($f.Summary)"
            foreach ($d in $f.Differences) { "    $d" }
        }
        # the socket tables after the replay against the kernel's ss -tan and ss -uan
        $lines = @($lines) + @($j.Sockets.Differences | ForEach-Object { "sockets: $_" })
        Set-Content -Path (Join-Path $report "$($j.Scenario).txt") -Value $lines
    }
    $judged = ($all | Measure-Object Judged -Sum).Sum
    $agreed = ($all | Measure-Object Agreed -Sum).Sum
    Write-Host ("agreement: {0} of {1} frames ({2:P1}) over {3} scenarios; differences in {4}" -f $agreed, $judged, ($(if ($judged) { $agreed / $judged } else { 0 })), @($all).Count, $report)
    foreach ($kind in 'Connections', 'Listeners', 'Udp') {
        $a = ($all | ForEach-Object { $_.Sockets.$kind.Agreed } | Measure-Object -Sum).Sum
        $t = ($all | ForEach-Object { $_.Sockets.$kind.Total } | Measure-Object -Sum).Sum
        Write-Host ("sockets ({0}): {1} of {2} agree with ss" -f @{ Connections = 'TCP connections'; Listeners = 'TCP listeners'; Udp = 'UDP' }[$kind], $a, $t)
    }
}

function Invoke-Record {
    if (-not $IsLinux) { throw 'Record needs Linux (network namespaces) and root.' }
    if (-not $Scenario) { throw 'Record needs -Scenario NAME (a folder of tests/scenarios with lab.sh, traffic.sh and scenario.json).' }
    foreach ($s in $Scenario) { Invoke-Native "record $s" { bash (Join-Path $root 'tests/Kernel/record.sh') $s } }
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Test' { Invoke-Test }
    'Demo' { Invoke-Demo }
    'Bench' { Invoke-Bench }
    'Package' { Invoke-Package }
    'Judge' { Invoke-Judge }
    'Record' { Invoke-Record }
}
