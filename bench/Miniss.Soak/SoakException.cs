using System;

namespace Miniss.Soak;

/// <summary>The soak could not run (a server did not start, wrk is missing): one line on stderr, exit code 1.</summary>
internal sealed class SoakException(string message) : Exception(message);
