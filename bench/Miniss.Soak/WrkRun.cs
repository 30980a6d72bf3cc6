namespace Miniss.Soak;

/// <summary>One wrk run against the HTTP server.</summary>
/// <param name="EndSeconds">When it ended, on the <see cref="RunClock"/>.</param>
/// <param name="Requests">Requests completed.</param>
/// <param name="Seconds">The time wrk measured over.</param>
/// <param name="SocketErrors">wrk's connect, read, write and timeout errors together.</param>
/// <param name="Non2xx">Responses with a status other than 2xx or 3xx.</param>
internal sealed record WrkRun(double EndSeconds, long Requests, double Seconds, long SocketErrors, long Non2xx);
