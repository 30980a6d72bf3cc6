using System;
using System.IO;

namespace Miniss.IO.Uring;

/// <summary>io_uring could not be set up in this process; <see cref="Errno"/> and the message say why.</summary>
public sealed class IoUringUnavailableException : IOException
{
    /// <summary>Creates the exception for a failed <c>io_uring_setup</c>.</summary>
    public IoUringUnavailableException(string message, int errno) : base(message) => Errno = errno;

    /// <summary>Creates the exception with a message only.</summary>
    public IoUringUnavailableException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public IoUringUnavailableException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with no message.</summary>
    public IoUringUnavailableException()
    {
    }

    /// <summary>The errno of <c>io_uring_setup</c> (EPERM: seccomp or io_uring_disabled; ENOSYS; ENOMEM).</summary>
    public int Errno { get; }
}
