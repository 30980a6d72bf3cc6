using System.Threading.Tasks;
using NUnit.Framework;

namespace Miniss.AspNetCore.Tests.EndToEnd;

/// <summary>
/// A fixture that runs once per transport (<see cref="EndToEndTransports.Available"/>) against one sample server,
/// started before its first test; after each test no server-side connection may be left open.
/// </summary>
public abstract class EndToEndFixture(EndToEndTransport transport)
{
    private SampleServer? _server;

    /// <summary>The transport this instance of the fixture tests.</summary>
    protected EndToEndTransport Transport { get; } = transport;

    /// <summary>The fixture's running sample.</summary>
    internal SampleServer Server => _server ?? throw new System.InvalidOperationException("the sample server did not start");

    [OneTimeSetUp]
    public async Task StartSampleAsync() => _server = await SampleServer.StartAsync(Transport);

    [OneTimeTearDown]
    public async Task StopSampleAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [TearDown]
    public Task No_connection_is_left_open() => _server is null ? Task.CompletedTask : ServerConnections.AssertNoneLeftOpenAsync(_server.Ports);
}
