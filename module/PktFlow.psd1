@{
    RootModule           = 'PktFlow.PowerShell.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5d7f3c1e-8a2b-4c6d-9e0f-1a2b3c4d5e6f'
    Author               = 'PktFlow developers'
    CompanyName          = 'PktFlow'
    Copyright            = '(c) PktFlow developers. MIT License.'
    Description          = 'What would the Linux kernel do with this packet? Replays pcap/pcapng captures through a model of the Linux datapath and reports, per packet, every stage crossed, each verdict, the route and its fate.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    RequiredAssemblies   = @('PktFlow.Core.dll')
    FormatsToProcess     = @('PktFlow.format.ps1xml')
    CmdletsToExport      = @('Invoke-PacketFlow', 'Show-PacketFlow', 'Import-PktFlowTopology', 'New-PktFlowTopology', 'Get-PktFlowRoute', 'Get-PktFlowRule', 'Get-PktFlowNexthop', 'Get-PktFlowDevice', 'Compare-PktFlowKernel', 'Get-PktFlowCounter', 'Get-PktFlowSet', 'Get-PktFlowConntrack', 'Get-PktFlowRouteCache', 'Get-PktFlowSocket', 'Get-PktFlowBpfMap')
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Linux', 'Networking', 'pcap', 'netfilter', 'nftables', 'iptables', 'routing', 'PSEdition_Core', 'Linux', 'MacOS', 'Windows')
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            ReleaseNotes = 'First datapath: capture replay, IPv4/IPv6/ARP receive, routing, forwarding, local delivery.'
        }
    }
}
