using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Miniss.IO;
using Miniss.IO.Uring;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.IO;

/// <summary>
/// How a runtime chooses its backend: forced by the options or <c>MINISS_BACKEND</c>, or probed; and, in child
/// processes whose <c>io_uring_setup</c> a seccomp filter refuses (as container runtimes' default profiles do), that
/// it falls back to epoll, says why, and still works.
/// </summary>
[TestFixture]
[Platform("Linux")]
[NonParallelizable]
public sealed class BackendSelectionTests
{
    private static readonly string s_miniss = Path.Combine(AppContext.BaseDirectory, "miniss");
    private string _directory = null!;
    private string _deny = null!;

    [OneTimeSetUp]
    public void BuildTheSeccompLauncher()
    {
        _directory = Directory.CreateTempSubdirectory("miniss-seccomp-").FullName;
        _deny = Path.Combine(_directory, "deny_io_uring");
        string source = Path.Combine(AppContext.BaseDirectory, "Native", "deny_io_uring.c");
        (int exit, string output) = Run("cc", ["-O2", "-Wall", "-Werror", "-o", _deny, source], TimeSpan.FromSeconds(60));
        Assert.That(exit, Is.Zero, $"cc could not build the seccomp launcher (./test.sh installs gcc): {output}");
    }

    [OneTimeTearDown]
    public void RemoveTheLauncher() => Directory.Delete(_directory, recursive: true);

    [Test]
    public void Under_a_seccomp_profile_that_refuses_io_uring_the_runtime_chooses_epoll_and_says_why()
    {
        (int exit, string output) = Run(_deny, ["EPERM", s_miniss, "info"], TimeSpan.FromSeconds(60), withoutBackendVariable: true);

        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("Backend: epoll (probed; io_uring rejected: io_uring_setup failed with EPERM: refused by a seccomp profile"));
    }

    [Test]
    public void Under_a_seccomp_profile_that_refuses_io_uring_files_sockets_and_messages_work_on_epoll()
    {
        // The whole benchmark: file reads, a TCP echo over 64 connections and cross-shard ping-pong, on every shard.
        (int exit, string output) = Run(_deny, ["EPERM", s_miniss, "bench", "--duration", "0.3", "--file-size", "8", "--connections", "8"],
            TimeSpan.FromSeconds(120), withoutBackendVariable: true);

        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("miniss bench: backend epoll"));
        Assert.That(output, Does.Contain("TCP echo 64 B"));
        Assert.That(output, Does.Not.Contain("Exception"));
    }

    [TestCase("ENOSYS", "io_uring_setup failed with ENOSYS: the kernel has no io_uring")]
    [TestCase("ENOMEM", "io_uring_setup failed with ENOMEM: the locked-memory limit (RLIMIT_MEMLOCK) is too small")]
    public void Each_refusal_is_named_with_its_usual_cause(string errno, string reason)
    {
        (int exit, string output) = Run(_deny, [errno, s_miniss, "info"], TimeSpan.FromSeconds(60), withoutBackendVariable: true);

        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain($"Backend: epoll (probed; io_uring rejected: {reason}"));
    }

    [Test]
    public void Forcing_io_uring_where_it_is_refused_fails_at_start_with_the_reason()
    {
        var environment = new Dictionary<string, string> { [IoBackendSelection.EnvironmentVariable] = "io_uring" };
        (int exit, string output) = Run(_deny, ["EPERM", s_miniss, "bench", "--duration", "0.1"], TimeSpan.FromSeconds(60), environment: environment);

        Assert.That(exit, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("io_uring was forced by MINISS_BACKEND but cannot be used: io_uring_setup failed with EPERM"));
        Assert.That(output, Does.Not.Contain("   at "), "a clear error, not a stack trace");
    }

    [Test]
    public void Without_CAP_IPC_LOCK_and_a_64_KiB_memlock_limit_info_chooses_epoll_and_names_RLIMIT_MEMLOCK()
    {
        // One ring fits in 64 KiB; the rings of two shards do not.
        var run = Cli.MinissProcess.Run(["info"], Cli.Wrappers.Memlock(64 * 1024));

        Assert.That(run.Exit, Is.Zero, run.Transcript);
        Assert.That(run.Stdout, Does.Contain("Backend: epoll (probed; io_uring rejected: the rings of 2 shards need"), run.Transcript);
        Assert.That(run.Stdout, Does.Contain("RLIMIT_MEMLOCK allows 64 KiB and the process lacks CAP_IPC_LOCK"));
    }

    [Test]
    public void Without_CAP_IPC_LOCK_and_a_64_KiB_memlock_limit_bench_runs_on_epoll_and_logs_why()
    {
        var run = Cli.MinissProcess.Run(["bench", "--duration", "0.1", "--file-size", "1", "--connections", "4", "--shards", "2"], Cli.Wrappers.Memlock(64 * 1024));

        Assert.That(run.Exit, Is.Zero, run.Transcript);
        Assert.That(run.Stdout, Does.Contain("miniss bench: backend epoll"), run.Transcript);
        Assert.That(run.Stderr, Does.Contain("Miniss I/O backend: epoll (probed; io_uring rejected: the rings of 2 shards need").And.Contain("RLIMIT_MEMLOCK"), run.Transcript);
        Assert.That(run.Stderr, Does.Not.Contain("   at "));
    }

    [Test]
    public void Forcing_io_uring_where_the_shards_rings_exceed_the_memlock_limit_fails_at_start_with_the_reason()
    {
        var run = Cli.MinissProcess.Run(["bench", "--backend", "io_uring", "--duration", "0.1", "--file-size", "1", "--shards", "2"], Cli.Wrappers.Memlock(64 * 1024));

        Assert.That(run.Exit, Is.EqualTo(1), run.Transcript);
        Cli.MinissProcess.AssertOneLineFailure(run.Stderr, run.Transcript);
        Assert.That(run.Stderr, Does.Contain("io_uring was forced by RuntimeOptions.Backend but cannot be used: the rings of 2 shards need").And.Contain("RLIMIT_MEMLOCK"));
    }

    [Test]
    public void A_shard_ring_that_does_not_fit_at_start_falls_back_to_epoll_with_the_reason()
    {
        // Locked memory counts per user: a first server's one ring leaves room for the probe's ring and the sum the
        // probe computes, but not for the second server's two rings at once.
        long ring = RingBytes();
        using Cli.MinissProcess first = Cli.MinissProcess.Start(["serve", "echo", "--port", "0", "--shards", "1"], Cli.Wrappers.Memlock((int)(2 * ring)));
        first.WaitForOutput("; Ctrl-C stops it");
        Assert.That(first.StandardOutput, Does.Contain("backend io_uring"), $"the first server holds an io_uring ring\n{first.Transcript}");

        using Cli.MinissProcess second = Cli.MinissProcess.Start(["serve", "echo", "--port", "0", "--shards", "2"], Cli.Wrappers.Memlock((int)(2 * ring)));
        second.WaitForOutput("; Ctrl-C stops it");
        second.Terminate();
        first.Terminate();

        Assert.That(second.WaitForExit(Cli.MinissProcess.Patience), Is.Zero, second.Transcript);
        Assert.That(first.WaitForExit(Cli.MinissProcess.Patience), Is.Zero, first.Transcript);
        Assert.That(second.StandardOutput, Does.Contain("backend epoll"), second.Transcript);
        Assert.That(second.StandardError, Does.Contain("Miniss I/O backend: epoll (probed; io_uring rejected: a shard's ring could not be set up at start: io_uring_setup failed with ENOMEM"), second.Transcript);
    }

    [Test]
    public void With_room_for_exactly_the_shards_rings_io_uring_is_kept()
    {
        // The probe's own ring, closed just before, is released by the kernel a little late: starting must not take
        // that moment for a lack of room.
        long ring = RingBytes();
        using Cli.MinissProcess server = Cli.MinissProcess.Start(["serve", "echo", "--port", "0", "--shards", "1"], Cli.Wrappers.Memlock((int)ring));
        server.WaitForOutput("; Ctrl-C stops it");
        server.Terminate();

        Assert.That(server.WaitForExit(Cli.MinissProcess.Patience), Is.Zero, server.Transcript);
        Assert.That(server.StandardOutput, Does.Contain("backend io_uring"), server.Transcript);
    }

    /// <summary>The locked memory of one ring with the default entries and flags.</summary>
    private static long RingBytes()
    {
        using var ring = IoUringBackend.Create((uint)new RuntimeOptions().RingEntries, (uint)(new RuntimeOptions().RingEntries * 4), IoUringBackend.DefaultFlags);
        return ring.LockedBytes;
    }

    [Test]
    public async Task A_backend_forced_by_the_options_is_used_and_logged_once()
    {
        var logger = new CollectingLogger();
        await using MinissRuntime runtime = MinissRuntime.Start(new RuntimeOptions { ShardCount = 2, Backend = IoBackendKind.Epoll, LoggerFactory = new Support.OneLoggerFactory(logger) });

        Assert.That(runtime.Backend.Kind, Is.EqualTo(IoBackendKind.Epoll));
        Assert.That(runtime.Backend.Source, Is.EqualTo("RuntimeOptions.Backend"));
        Assert.That(runtime.Shards.Select(s => s.BackendName), Is.All.EqualTo("epoll"));
        Assert.That(logger.Lines.Count(l => l.StartsWith("Miniss I/O backend:", StringComparison.Ordinal)), Is.EqualTo(1));
        Assert.That(logger.Lines, Has.Member("Miniss I/O backend: epoll (RuntimeOptions.Backend)"));
        int answer = await runtime.SubmitTo(1, async () =>
        {
            await IoOperations.NopAsync();
            return 42;
        });
        Assert.That(answer, Is.EqualTo(42));
    }

    [Test]
    public async Task Where_io_uring_works_it_is_chosen_by_probing()
    {
        Assume.That(IoBackendSelection.ProbeIoUring(new RuntimeOptions()), Is.Null, "io_uring is refused in this process");
        using var variable = new EnvironmentVariableScope(IoBackendSelection.EnvironmentVariable, null);
        await using MinissRuntime runtime = MinissRuntime.Start(new RuntimeOptions { ShardCount = 1 });

        Assert.That(runtime.Backend.Kind, Is.EqualTo(IoBackendKind.IoUring));
        Assert.That(runtime.Backend.Source, Is.EqualTo("probed"));
        Assert.That(runtime.Backend.Rejected, Is.Empty);
    }

    [Test]
    public async Task The_environment_variable_forces_a_backend_when_the_options_do_not()
    {
        using var variable = new EnvironmentVariableScope(IoBackendSelection.EnvironmentVariable, "epoll");
        await using MinissRuntime runtime = MinissRuntime.Start(new RuntimeOptions { ShardCount = 1 });

        Assert.That(runtime.Backend.Kind, Is.EqualTo(IoBackendKind.Epoll));
        Assert.That(runtime.Backend.Source, Is.EqualTo("MINISS_BACKEND"));
    }

    [Test]
    public void An_unknown_backend_name_in_the_environment_fails_at_start_naming_the_choices()
    {
        using var variable = new EnvironmentVariableScope(IoBackendSelection.EnvironmentVariable, "iouring2");

        var error = Assert.Throws<ArgumentException>(() => MinissRuntime.Start(new RuntimeOptions { ShardCount = 1 }).Dispose());
        Assert.That(error!.Message, Does.Contain("MINISS_BACKEND=iouring2").And.Contain("io_uring, epoll, kqueue or auto"));
    }

    [Test]
    public void Forcing_the_backend_of_another_platform_fails_at_start()
    {
        var error = Assert.Throws<PlatformNotSupportedException>(() => MinissRuntime.Start(new RuntimeOptions { ShardCount = 1, Backend = IoBackendKind.Kqueue }).Dispose());
        Assert.That(error!.Message, Does.Contain("kqueue was forced by RuntimeOptions.Backend"));
    }

    [Test]
    public void Backend_names_parse_as_the_command_line_and_the_environment_spell_them()
    {
        Assert.That(IoBackendSelection.Parse("io_uring"), Is.EqualTo(IoBackendKind.IoUring));
        Assert.That(IoBackendSelection.Parse(" EPOLL "), Is.EqualTo(IoBackendKind.Epoll));
        Assert.That(IoBackendSelection.Parse("kqueue"), Is.EqualTo(IoBackendKind.Kqueue));
        Assert.That(IoBackendSelection.Parse("auto"), Is.EqualTo(IoBackendKind.Auto));
        Assert.Throws<ArgumentException>(() => IoBackendSelection.Parse("select"));
    }

    private static (int Exit, string Output) Run(string file, IEnumerable<string> arguments, TimeSpan timeout,
        bool withoutBackendVariable = false, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        if (withoutBackendVariable)
        {
            start.Environment.Remove(IoBackendSelection.EnvironmentVariable);
        }

        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', arguments)} did not finish within {timeout}");
        }

        process.WaitForExit();
        return (process.ExitCode, output.Result + errors.Result);
    }

    /// <summary>Sets an environment variable for one test and puts the old value back.</summary>
    private sealed class EnvironmentVariableScope : IDisposable
    {
        private readonly string _name;
        private readonly string? _previous;

        public EnvironmentVariableScope(string name, string? value)
        {
            _name = name;
            _previous = Environment.GetEnvironmentVariable(name);
            Environment.SetEnvironmentVariable(name, value);
        }

        public void Dispose() => Environment.SetEnvironmentVariable(_name, _previous);
    }

    /// <summary>Keeps every message logged.</summary>
    private sealed class CollectingLogger : ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Lines)
            {
                Lines.Add(formatter(state, exception));
            }
        }
    }

    [Test]
    public void Creating_a_backend_of_a_kind_this_platform_lacks_is_refused_with_the_reason_and_what_to_use()
    {
        var refused = Assert.Throws<PlatformNotSupportedException>(() => IoBackend.Create(IoBackendKind.Kqueue));

        Assert.That(refused!.Message, Does.Contain("kqueue").And.Contain("macOS").And.Contain("IoBackendKind.Auto"));
    }

    [Test]
    public void Creating_an_auto_backend_gives_the_kind_a_runtime_would_choose()
    {
        using IoBackend backend = IoBackend.Create(IoBackendKind.Auto);

        Assert.That(backend.Kind, Is.EqualTo(IoBackendSelection.Select(new RuntimeOptions { ShardCount = 1 }).Kind));
    }
}
