namespace Miniss.Samples.AspNetCore;

/// <summary>The body of <c>GET /json</c>: <c>{"message":"Hello, World!"}</c>, as TechEmpower's JSON test asks.</summary>
/// <param name="Message">The greeting.</param>
public sealed record HelloMessage(string Message);
