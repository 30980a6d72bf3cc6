using System.Collections.Generic;
using Miniss.IO;
using Miniss.IO.Uring;

namespace Miniss.AspNetCore.Tests.EndToEnd;

/// <summary>What the sample's Kestrel takes its connections from in an end-to-end fixture.</summary>
public enum EndToEndTransport
{
    /// <summary>Kestrel's own Sockets transport: the control, which every test must pass as well.</summary>
    Sockets,

    /// <summary>Miniss shards on io_uring.</summary>
    MinissIoUring,

    /// <summary>Miniss shards on epoll.</summary>
    MinissEpoll,
}

/// <summary>The transports every end-to-end fixture runs on: Sockets, Miniss on io_uring when this process can set up
/// a ring with what the runtime needs, and Miniss on epoll.</summary>
internal static class EndToEndTransports
{
    public static IEnumerable<EndToEndTransport> Available()
    {
        yield return EndToEndTransport.Sockets;
        bool ioUring;
        try
        {
            IoBackendSelection.Select(new RuntimeOptions { Backend = IoBackendKind.IoUring });
            ioUring = true;
        }
        catch (IoUringUnavailableException)
        {
            ioUring = false;
        }

        if (ioUring)
        {
            yield return EndToEndTransport.MinissIoUring;
        }

        yield return EndToEndTransport.MinissEpoll;
    }
}
