using System;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Miniss.BindGen.Tests;

/// <summary>
/// A libclang that cannot be loaded is reported clearly. BindGen runs out of process here: the loader keeps the first
/// libclang it loads for the life of the process, so an in-process run would see the one the other tests loaded.
/// </summary>
[TestFixture]
public sealed class LibClangMissingTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    private BindGenTree _tree = null!;

    [SetUp]
    public void SetUp() => _tree = new BindGenTree();

    [TearDown]
    public void TearDown() => _tree.Dispose();

    [Test]
    public async Task A_MINISS_LIBCLANG_that_cannot_be_loaded_is_reported_without_a_stack_trace()
    {
        _tree.WriteHeader("one.h", "#define ONE 1\n");
        _tree.WriteRecipe("one", "One", constants: ["ONE"]);

        (int exitCode, string output, string error) = await RunBindGenProcess(
            "/nonexistent/libclang.so", "--headers", _tree.HeadersRoot, "--out", _tree.OutputRoot);

        string report = $"exit {exitCode}\nstdout:\n{output}\nstderr:\n{error}";
        Assert.That(exitCode, Is.EqualTo(1), report);
        Assert.That(error, Does.Contain("MINISS_LIBCLANG=/nonexistent/libclang.so"), report);
        Assert.That(error, Does.Contain("could not be loaded"), report);
        ErrorReportingTests.AssertNoStackTrace(error);
        Assert.That(Directory.Exists(_tree.OutputRoot), Is.False, "nothing is written");
    }

    /// <summary>Runs <c>dotnet Miniss.BindGen.dll ARGS</c> with <c>MINISS_LIBCLANG</c> set, killing it after the timeout.</summary>
    private static async Task<(int ExitCode, string Output, string Error)> RunBindGenProcess(string libclang, params string[] args)
    {
        // The SDK copies a referenced Exe project's .dll, .deps.json and .runtimeconfig.json next to the test assembly.
        string dll = typeof(Program).Assembly.Location;
        string runtimeConfig = Path.ChangeExtension(dll, ".runtimeconfig.json");
        Assert.That(File.Exists(runtimeConfig), Is.True, $"{runtimeConfig} is missing: `dotnet {dll}` cannot start without it");

        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["MINISS_LIBCLANG"] = libclang;
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using (var timeout = new System.Threading.CancellationTokenSource(s_timeout))
        {
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"Miniss.BindGen did not exit within {s_timeout.TotalSeconds} s");
            }
        }

        return (process.ExitCode, await output, await error);
    }
}
