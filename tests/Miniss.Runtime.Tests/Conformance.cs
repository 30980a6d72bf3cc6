using System.Collections.Generic;
using Miniss.IO;
using NUnit.Framework;

namespace Miniss.Runtime.Tests;

/// <summary>
/// The backends every behavioural fixture runs on: each one this machine can use. A fixture that derives from
/// <see cref="BackendFixture"/> and names <see cref="Available"/> as its <see cref="TestFixtureSourceAttribute"/> runs
/// once per backend (<c>EchoTests(IoUring)</c>, <c>EchoTests(Epoll)</c>), so every backend passes the same tests.
/// </summary>
internal static class Backends
{
    /// <summary>io_uring when this process can set up a ring with what the runtime needs, and the platform's
    /// readiness backend (epoll on Linux, kqueue on macOS).</summary>
    public static IEnumerable<IoBackendKind> Available()
    {
        if (IoBackendSelection.ProbeIoUring(new RuntimeOptions()) is null)
        {
            yield return IoBackendKind.IoUring;
        }

        if (System.OperatingSystem.IsLinux())
        {
            yield return IoBackendKind.Epoll;
        }
        else if (System.OperatingSystem.IsMacOS())
        {
            yield return IoBackendKind.Kqueue;
        }
    }

    /// <summary>The backend of the running conformance test: what the test's runtimes start with.</summary>
    public static IoBackendKind Current { get; set; } = IoBackendKind.Auto;
}

/// <summary>A fixture that runs once per available backend: every runtime its tests start uses <see cref="Backend"/>.</summary>
public abstract class BackendFixture(IoBackendKind backend)
{
    /// <summary>The backend this instance of the fixture tests.</summary>
    protected IoBackendKind Backend { get; } = backend;

    [SetUp]
    public void UseBackend() => Backends.Current = Backend;

    [TearDown]
    public void ForgetBackend() => Backends.Current = IoBackendKind.Auto;
}
