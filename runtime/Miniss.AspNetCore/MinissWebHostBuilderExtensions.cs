using System;
using Microsoft.AspNetCore.Hosting;

namespace Miniss.AspNetCore;

/// <summary>Runs Kestrel on Miniss shards.</summary>
public static class MinissWebHostBuilderExtensions
{
    /// <summary>Makes Kestrel take its connections from Miniss shards.</summary>
    /// <param name="builder">The web host builder.</param>
    /// <param name="configure">Sets the transport's options.</param>
    public static IWebHostBuilder UseMiniss(this IWebHostBuilder builder, Action<MinissTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        throw new NotImplementedException("the Miniss transport is being built");
    }
}
