using System;
using Miniss.IO;
using Miniss.IO.Uring;

namespace Miniss.Docs.Snippets;

/// <summary>The snippets of the backends guide.</summary>
internal static class Backends
{
    internal static void Selection()
    {
        // <selection>
        // What MinissRuntime.Start would choose here, without starting anything.
        IoBackendSelection selection = IoBackendSelection.Select(new RuntimeOptions { Backend = IoBackendKind.Auto });
        Console.WriteLine($"{selection.Name}, {selection.Source}");
        foreach (RejectedBackend rejected in selection.Rejected)
        {
            Console.WriteLine($"{rejected.Name} rejected (errno {rejected.Errno}): {rejected.Reason}");
        }
        // </selection>
    }

    internal static MinissRuntime Forced()
    {
        // <forced>
        try
        {
            // A forced backend runs or fails Start with the reason; it never falls back.
            return MinissRuntime.Start(new RuntimeOptions { Backend = IoBackendKind.IoUring });
        }
        catch (IoUringUnavailableException e)
        {
            Console.Error.WriteLine($"{e.Message} (errno {e.Errno})");
            return MinissRuntime.Start(new RuntimeOptions { Backend = IoBackendKind.Epoll });
        }
        // </forced>
    }

    internal static void Capabilities()
    {
        // <capabilities>
        IoUringCapabilities ring = IoUringCapabilities.Probe();
        if (!ring.IsAvailable)
        {
            Console.WriteLine($"no io_uring: {ring.UnavailableReason}");
            return;
        }

        Console.WriteLine($"{ring.SupportedOperations.Count} operations, features: {string.Join(' ', ring.FeatureNames)}");
        Console.WriteLine($"setup flags accepted: {string.Join(' ', ring.AcceptedSetupFlags)}");
        // </capabilities>
    }
}
