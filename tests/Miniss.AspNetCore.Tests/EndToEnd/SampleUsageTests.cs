using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Miniss.AspNetCore.Tests.EndToEnd;

/// <summary>The sample's command line, refused before any transport starts.</summary>
public sealed class SampleUsageTests
{
    private static readonly TimeSpan s_ceiling = TimeSpan.FromSeconds(60);

    [Test]
    public async Task An_unknown_option_is_a_usage_error_with_exit_code_2()
    {
        using Process program = SampleProgramTests.Start(transport: null, "--port", "8080");
        Task<string> errors = program.StandardError.ReadToEndAsync();
        using var ceiling = new CancellationTokenSource(s_ceiling);
        try
        {
            await program.WaitForExitAsync(ceiling.Token);
        }
        finally
        {
            SampleProgramTests.Stop(program);
        }

        Assert.That(program.ExitCode, Is.EqualTo(2));
        Assert.That(await errors, Does.StartWith("miniss-aspnet: --port is not an option of miniss-aspnet\nusage: "));
    }
}
