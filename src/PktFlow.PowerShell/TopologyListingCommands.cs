using System.Management.Automation;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.PowerShell;

/// <summary>The Get-PktFlow* cmdlets that list one kind of configuration of a topology's namespaces.</summary>
public abstract class TopologyListingCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public HostTopology Topology { get; set; } = null!;

    /// <summary>One namespace only (all when not given).</summary>
    [Parameter]
    public string? Namespace { get; set; }

    protected abstract IEnumerable<object> Items(NetNamespace ns);

    protected override void ProcessRecord()
    {
        foreach (var ns in Topology.Namespaces)
            if (Namespace is null || ns.Name == Namespace)
                foreach (var item in Items(ns)) WriteObject(item);
    }
}

/// <summary>Get-PktFlowRoute: the routes of a topology's namespaces, kernel-made ones included.</summary>
[Cmdlet(VerbsCommon.Get, "PktFlowRoute")]
[OutputType(typeof(Route))]
public sealed class GetPktFlowRouteCommand : TopologyListingCommand
{
    protected override IEnumerable<object> Items(NetNamespace ns) => ns.Routes;
}

/// <summary>Get-PktFlowDevice: the devices of a topology's namespaces.</summary>
[Cmdlet(VerbsCommon.Get, "PktFlowDevice")]
[OutputType(typeof(NetDevice))]
public sealed class GetPktFlowDeviceCommand : TopologyListingCommand
{
    protected override IEnumerable<object> Items(NetNamespace ns) => ns.Devices;
}

/// <summary>Get-PktFlowRule: the policy rules (`ip rule`) of a topology's namespaces, the kernel's defaults included, in priority order.</summary>
[Cmdlet(VerbsCommon.Get, "PktFlowRule")]
[OutputType(typeof(Routing.FibRule))]
public sealed class GetPktFlowRuleCommand : TopologyListingCommand
{
    /// <summary>IPv4 or IPv6 only, as `ip -4 rule` / `ip -6 rule`.</summary>
    [Parameter]
    public IpFamily? Family { get; set; }

    protected override IEnumerable<object> Items(NetNamespace ns) =>
        new[] { IpFamily.V4, IpFamily.V6 }.Where(f => Family is null || f == Family).SelectMany(f => ns.Fib.Rules(f));
}

/// <summary>Get-PktFlowNexthop: the nexthop objects and groups (`ip nexthop`) of a topology's namespaces.</summary>
[Cmdlet(VerbsCommon.Get, "PktFlowNexthop")]
[OutputType(typeof(NexthopObject))]
public sealed class GetPktFlowNexthopCommand : TopologyListingCommand
{
    protected override IEnumerable<object> Items(NetNamespace ns) => ns.NexthopObjects;
}
