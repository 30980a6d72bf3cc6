using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Miniss.AspNetCore.Internal;

/// <summary>
/// Puts a middleware first in the application's pipeline that moves a request found off its connection's shard onto
/// it. Kestrel serves each HTTP/2 stream from the thread pool (its own dispatch, which a transport cannot change);
/// this brings the application's code back to the shard the connection lives on, as for HTTP/1.1, where the request is
/// already there and the middleware only compares.
/// </summary>
internal sealed class ShardAffinityStartupFilter : IStartupFilter
{
    /// <summary>The key under which a connection's <see cref="Shard"/> is kept in its items.</summary>
    public static readonly object ShardKey = new();

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(static next => context => InvokeAsync(context, next));
        next(app);
    };

    private static Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (Shard.Current is null
            && context.Features.Get<IConnectionItemsFeature>()?.Items is IDictionary<object, object?> items
            && items.TryGetValue(ShardKey, out object? value) && value is Shard shard)
        {
            return InvokeOnShardAsync(shard, context, next);
        }

        return next(context);
    }

    private static async Task InvokeOnShardAsync(Shard shard, HttpContext context, RequestDelegate next)
    {
        await new ShardSwitch(shard);
        await next(context).ConfigureAwait(true);
    }
}
