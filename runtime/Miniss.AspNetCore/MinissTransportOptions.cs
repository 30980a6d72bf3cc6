namespace Miniss.AspNetCore;

/// <summary>How Kestrel's connections are taken and served on Miniss shards.</summary>
public sealed class MinissTransportOptions
{
}
