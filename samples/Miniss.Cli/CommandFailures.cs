using System;
using System.IO;
using System.Net.Sockets;

namespace Miniss.Cli;

/// <summary>A command line that cannot run as given: an unknown option, a bad value, or a value this machine cannot
/// satisfy (a <c>--json</c> target that cannot be written, more connections than descriptors). Found before any work;
/// reported in one line, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>A command that failed while it ran (a port that cannot be bound, a full disk, a runtime that cannot
/// start); its message is the whole sentence the user sees. Reported in one line, exit code 1.</summary>
internal sealed class CommandFailedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Turns any exception into the one-line sentence <c>miniss</c> prints for it.</summary>
internal static class FailureText
{
    /// <summary>The errno of ENOSPC, which .NET reports as an <see cref="IOException"/> whose HResult is the errno.</summary>
    private const int NoSpace = 28;

    /// <summary>One line saying what failed: the message of the innermost exception that has one, without a stack trace
    /// or line breaks.</summary>
    public static string Describe(Exception error)
    {
        Exception e = Unwrap(error);
        string text = e switch
        {
            CommandFailedException or UsageException => e.Message,
            IOException io when IsDiskFull(io) => $"no space left on the device: {io.Message}",
            UnauthorizedAccessException => $"permission denied: {e.Message}",
            SocketException socket => $"{socket.Message} ({socket.SocketErrorCode})",
            OutOfMemoryException => "out of memory (or of a resource the runtime allocates like memory: descriptors, threads)",
            ArgumentException argument => WithoutParameterNames(argument.Message),
            _ when e.Message.Length == 0 => e.GetType().Name,
            _ => e.Message,
        };
        return OneLine(text);
    }

    /// <summary>Whether <paramref name="error"/> is ENOSPC (or EDQUOT: the user's quota is full).</summary>
    public static bool IsDiskFull(IOException error) =>
        error.HResult is NoSpace or 122 || error.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);

    /// <summary>The first exception that says something itself: through AggregateException and TargetInvocationException.</summary>
    public static Exception Unwrap(Exception error)
    {
        while (true)
        {
            switch (error)
            {
                case AggregateException { InnerExceptions.Count: > 0 } aggregate:
                    error = aggregate.InnerExceptions[0];
                    continue;
                case System.Reflection.TargetInvocationException { InnerException: { } inner }:
                    error = inner;
                    continue;
                default:
                    return error;
            }
        }
    }

    /// <summary>Finds an exception of type <typeparamref name="T"/> in <paramref name="error"/> or its inner exceptions.</summary>
    public static T? Find<T>(Exception? error)
        where T : Exception
    {
        for (; error is not null; error = error.InnerException)
        {
            if (error is T found)
            {
                return found;
            }

            if (error is AggregateException aggregate)
            {
                foreach (Exception inner in aggregate.InnerExceptions)
                {
                    if (Find<T>(inner) is { } nested)
                    {
                        return nested;
                    }
                }
            }
        }

        return null;
    }

    /// <summary>An <see cref="ArgumentException"/>'s message without the " (Parameter 'name')" .NET appends, once per wrapping.</summary>
    private static string WithoutParameterNames(string message)
    {
        int at = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return at < 0 ? message : message[..at];
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim().TrimEnd('.');
}
