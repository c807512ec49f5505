namespace PktFlow.Socket;

/// <summary>
/// Sysctls that give packets the kernel builds the mark of the packet they answer; the model gives
/// those packets no mark (or the listener's SO_MARK), so a lab that turns one on is told so.
/// </summary>
public static class SocketMarkSysctls
{
    /// <summary>Why a write is not modelled, or null.</summary>
    public static string? NotModelled(string key, string value) => value.Trim() == "0" ? null : key switch
    {
        "net.ipv4.fwmark_reflect" or "net.ipv6.fwmark_reflect" =>
            $"{key}={value} is not modelled: the kernel's resets, ICMP errors and echo replies carry the mark of the packet they answer (IP4_REPLY_MARK); the model gives them none",
        "net.ipv4.tcp_fwmark_accept" =>
            $"{key}={value} is not modelled: a listener without SO_MARK takes the SYN's mark for the request and the accepted connection (inet_request_mark); the model gives them none",
        _ => null,
    };
}
