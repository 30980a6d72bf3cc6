namespace Miniss.Soak;

/// <summary>One row of the soak: both servers as /proc shows them, and the load since the previous row.</summary>
/// <param name="Seconds">When, on the <see cref="RunClock"/>.</param>
/// <param name="Phase"><c>warm-up</c>, <c>load</c>, or <c>quiet</c> (load stopped, descriptors settling).</param>
/// <param name="Http">The HTTP server, or <see langword="null"/> if it had ended.</param>
/// <param name="Echo">The echo server, or <see langword="null"/> if it had ended.</param>
/// <param name="WrkRequestsPerSecond">Requests/s of the wrk runs that ended since the previous row, if any did.</param>
/// <param name="HttpChurnPerSecond">Churn connections finished per second against the HTTP server since the previous row.</param>
/// <param name="EchoChurnPerSecond">The same against the echo server.</param>
internal sealed record SoakSample(
    double Seconds,
    string Phase,
    ProcessSample? Http,
    ProcessSample? Echo,
    double? WrkRequestsPerSecond,
    double HttpChurnPerSecond,
    double EchoChurnPerSecond);
