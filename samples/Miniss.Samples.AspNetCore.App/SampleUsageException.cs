using System;

namespace Miniss.Samples.AspNetCore;

/// <summary>The command line asks for something the sample does not do; the message says what, in one sentence.</summary>
public sealed class SampleUsageException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SampleUsageException()
    {
    }

    /// <summary>Creates the exception with its one-sentence message.</summary>
    /// <param name="message">What is wrong and what to change.</param>
    public SampleUsageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its message and the error behind it.</summary>
    /// <param name="message">What is wrong and what to change.</param>
    /// <param name="innerException">The error behind it.</param>
    public SampleUsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
