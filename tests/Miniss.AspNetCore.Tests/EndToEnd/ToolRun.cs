using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace Miniss.AspNetCore.Tests.EndToEnd;

/// <summary>What a client program (curl, wrk) printed and how it exited.</summary>
internal sealed record ToolRun(int ExitCode, string Output, string Errors)
{
    private static readonly TimeSpan s_ceiling = TimeSpan.FromSeconds(60);

    /// <summary>Runs <paramref name="tool"/> to its end (killed after 60 s, which a correct run never nears).</summary>
    public static async Task<ToolRun> RunAsync(string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"{tool} did not start");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        using var ceiling = new CancellationTokenSource(s_ceiling);
        try
        {
            await process.WaitForExitAsync(ceiling.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {string.Join(' ', arguments)} did not finish within {s_ceiling.TotalSeconds:0} s");
        }

        return new ToolRun(process.ExitCode, await output, await errors);
    }

    /// <summary>For assertion messages.</summary>
    public override string ToString() => $"exit {ExitCode}\n{Output}\n{Errors}";
}
