using System.Collections.Generic;
using Miniss.IO;

namespace Miniss.AspNetCore.Tests.Transport;

/// <summary>The backends the transport's fixtures run on: io_uring when this process can use it, and epoll.</summary>
internal static class TransportBackends
{
    public static IEnumerable<IoBackendKind> Available()
    {
        if (IoBackendSelection.Select(new RuntimeOptions()).Kind == IoBackendKind.IoUring)
        {
            yield return IoBackendKind.IoUring;
        }

        yield return IoBackendKind.Epoll;
    }
}
