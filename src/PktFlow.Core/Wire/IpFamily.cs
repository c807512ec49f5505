namespace PktFlow.Wire;

/// <summary>Address family as the kernel's NFPROTO/AF split: IPv4 or IPv6.</summary>
public enum IpFamily : byte { V4 = 4, V6 = 6 }
