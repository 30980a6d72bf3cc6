using System;
using System.IO;
using System.Runtime.InteropServices;
using Miniss;
using Miniss.Bindings.Linux;

namespace Miniss.Cli;

/// <summary>The <c>miniss</c> command.</summary>
public static class Program
{
    private const string Usage =
        "usage: miniss [info]\n" +
        "  info   what this machine offers Miniss: io_uring features and operations, memlock limit, CPUs (the default)";

    public static int Main(string[] args)
    {
        string command = args.Length == 0 ? "info" : args[0];
        if (args.Length > 1 || command is not ("info" or "-h" or "--help"))
        {
            Console.Error.WriteLine($"miniss: unknown command or argument '{string.Join(' ', args)}'.");
            Console.Error.WriteLine(Usage);
            return 2;
        }

        if (command is "-h" or "--help")
        {
            Console.WriteLine(Usage);
            return 0;
        }

        Info(Console.Out);
        return 0;
    }

    private static unsafe void Info(TextWriter output)
    {
        output.WriteLine($"Miniss on {RuntimeInformation.OSDescription} ({RuntimeInformation.ProcessArchitecture}), .NET {Environment.Version}");
        output.WriteLine($"CPUs available to this process: {Environment.ProcessorCount}");
        if (OperatingSystem.IsLinux())
        {
            rlimit limit;
            if (Libc.getrlimit(Files.RLIMIT_MEMLOCK, &limit) == 0)
            {
                output.WriteLine($"Locked-memory limit (RLIMIT_MEMLOCK): {Describe(limit.rlim_cur)}");
            }
        }

        IoUringCapabilities io = IoUringCapabilities.Probe();
        if (!io.IsAvailable)
        {
            output.WriteLine($"io_uring: unavailable: {io.UnavailableReason}");
            return;
        }

        output.WriteLine($"io_uring: available; highest operation code {io.LastOperation}");
        output.WriteLine($"  features ({io.FeatureNames.Count}): {string.Join(' ', io.FeatureNames)}");
        output.WriteLine($"  optional setup flags accepted: {string.Join(' ', io.AcceptedSetupFlags)}");
        output.WriteLine($"  supported operations ({io.SupportedOperations.Count}):");
        for (int i = 0; i < io.SupportedOperations.Count; i += 4)
        {
            output.Write("   ");
            for (int j = i; j < Math.Min(i + 4, io.SupportedOperations.Count); j++)
            {
                output.Write($" {io.SupportedOperations[j],-28}");
            }

            output.WriteLine();
        }
    }

    private static string Describe(ulong bytes) =>
        bytes == Files.RLIM_INFINITY ? "unlimited" : $"{bytes / 1024} KiB";
}
