namespace PktFlow.Filter;

/// <summary>
/// A pcap-filter expression that cannot be compiled. <see cref="Exception.Message"/> names the column
/// and what was expected there, e.g. "pcap filter: unexpected 'prot' at column 5; expected a
/// primitive such as host, net, port, tcp, udp, icmp, arp, ip, ip6, vlan".
/// </summary>
public sealed class FilterSyntaxException : FormatException
{
    public FilterSyntaxException(string expression, int position, int length, string message)
        : base(message)
    {
        Expression = expression;
        Position = position;
        Length = length;
    }

    /// <summary>The expression as given.</summary>
    public string Expression { get; }

    /// <summary>0-based character offset of the offending token (the expression's length at its end).</summary>
    public int Position { get; }

    /// <summary>1-based column of the offending token, as the message prints it.</summary>
    public int Column => Position + 1;

    /// <summary>Length of the offending token (0 at the end of the expression).</summary>
    public int Length { get; }
}
