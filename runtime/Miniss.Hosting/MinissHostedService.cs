using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Miniss.Hosting;

/// <summary>Starts the host's <see cref="MinissRuntime"/> before the other hosted services start and stops it after
/// they have stopped, within the host's shutdown timeout.</summary>
internal sealed class MinissHostedService(IServiceProvider services) : IHostedLifecycleService
{
    private MinissRuntime? _runtime;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        _runtime = services.GetRequiredService<MinissRuntime>();
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (_runtime is null)
        {
            return;
        }

        try
        {
            await _runtime.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The runtime has logged what was still in flight; the host goes on stopping.
        }
    }
}
