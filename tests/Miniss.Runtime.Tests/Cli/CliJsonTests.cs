using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Cli;

/// <summary>
/// The output contract of <c>miniss</c>: <c>info --json</c> and <c>bench --json</c> write documents that hold to the
/// schemas committed in docs/schemas, and stdout carries only results (the document alone with <c>--json -</c>, the table
/// without progress when redirected), progress going to stderr.
/// </summary>
[TestFixture]
[Platform("Linux")]
[NonParallelizable]
public sealed class CliJsonTests
{
    /// <summary>The shortest bench: every workload for the least measured time, on the smallest file.</summary>
    private static readonly string[] s_shortBench = ["bench", "--duration", "0.05", "--file-size", "1", "--connections", "2", "--shards", "2"];

    private readonly JsonSchemaValidator _schemas = JsonSchemaValidator.ForCommittedSchemas();

    [Test]
    public void Info_json_holds_to_its_schema()
    {
        var run = MinissProcess.Run(["info", "--json"]);

        Assert.That(run.Exit, Is.Zero, run.Transcript);
        Assert.That(_schemas.Validate(run.Stdout, "miniss-info.schema.json"), Is.Empty, run.Transcript);
        using JsonDocument document = JsonDocument.Parse(run.Stdout);
        JsonElement root = document.RootElement;
        Assert.That(root.GetProperty("run").GetProperty("cpus").GetInt32(), Is.EqualTo(Environment.ProcessorCount));
        Assert.That(root.GetProperty("run").GetProperty("dotnetVersion").GetString(), Is.EqualTo(Environment.Version.ToString()));
        Assert.That(root.GetProperty("run").GetProperty("kernel").GetString(), Is.EqualTo(File.ReadAllText("/proc/sys/kernel/osrelease").Trim()));
    }

    [Test]
    public void Bench_json_to_stdout_is_the_document_alone_and_holds_to_its_schema()
    {
        var run = MinissProcess.Run([.. s_shortBench, "--json", "-", "--backend", "epoll"]);

        Assert.That(run.Exit, Is.Zero, run.Transcript);
        Assert.That(_schemas.Validate(run.Stdout, "miniss-bench.schema.json"), Is.Empty, run.Transcript);
        using JsonDocument document = JsonDocument.Parse(run.Stdout);
        JsonElement runBlock = document.RootElement.GetProperty("run");
        Assert.That(runBlock.GetProperty("backends")[0].GetString(), Is.EqualTo("epoll"), "the backend of a single-backend run");
        Assert.That(runBlock.GetProperty("shards").GetInt32(), Is.EqualTo(2));
        Assert.That(runBlock.GetProperty("options").GetProperty("durationSeconds").GetDouble(), Is.EqualTo(0.05));
        Assert.That(document.RootElement.GetProperty("results").GetArrayLength(), Is.EqualTo(6), "three workloads on Miniss and on .NET");
        Assert.That(run.Stderr, Does.Contain("file read 4 KiB, Miniss"), "progress goes to stderr");
    }

    [Test]
    public void Bench_json_to_a_file_holds_to_its_schema()
    {
        string path = Path.Combine(Path.GetTempPath(), $"miniss-bench-{Guid.NewGuid():N}.json");
        try
        {
            var run = MinissProcess.Run([.. s_shortBench, "--json", path]);

            Assert.That(run.Exit, Is.Zero, run.Transcript);
            Assert.That(_schemas.Validate(File.ReadAllText(path), "miniss-bench.schema.json"), Is.Empty, run.Transcript);
            Assert.That(run.Stdout, Does.Contain("miniss bench: backend").And.Contain("ops/s"), "the table still goes to stdout");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Bench_with_stdout_redirected_prints_only_the_results_there()
    {
        var run = MinissProcess.Run(s_shortBench);

        Assert.That(run.Exit, Is.Zero, run.Transcript);
        string[] lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Does.StartWith("miniss bench: backend "), run.Transcript);
        Assert.That(run.Stdout, Does.Contain("ops/s").And.Contain("p99.9 µs").And.Contain("TCP echo 64 B"), "the table");
        Assert.That(run.Stdout, Does.Not.Contain("creating the file").And.Not.Contain(": running").And.Not.Contain("warming up"),
            $"no progress on stdout\n{run.Transcript}");
        Assert.That(run.Stderr, Does.Contain("creating the file").And.Contain("ping-pong, .NET"), "progress on stderr");
    }

    [Test]
    public void Bench_quiet_prints_no_progress_at_all()
    {
        var run = MinissProcess.Run([.. s_shortBench, "--quiet"]);

        Assert.That(run.Exit, Is.Zero, run.Transcript);
        Assert.That(run.Stderr, Does.Not.Contain("creating the file").And.Not.Contain("file read 4 KiB"), run.Transcript);
        Assert.That(run.Stdout, Does.Contain("ops/s"), run.Transcript);
    }

    [Test]
    public void The_schema_check_refuses_a_document_that_breaks_the_contract()
    {
        // Guards the tests above: a check that accepted anything would let every document pass.
        const string Broken = """{ "schema": "miniss-bench/0", "run": { "command": "bench", "shards": "two" }, "results": [ { "workload": 1 } ] }""";

        IReadOnlyList<string> errors = _schemas.Validate(Broken, "miniss-bench.schema.json");

        Assert.That(errors, Has.Some.Contains("$.schema"));
        Assert.That(errors, Has.Some.Contains("$.run: 'minissVersion' is missing"));
        Assert.That(errors, Has.Some.Contains("$.run.shards: string is not integer"));
        Assert.That(errors, Has.Some.Contains("$.results[0]: 'operations' is missing"));
        Assert.That(errors, Has.Some.Contains("$.results[0].workload: number is not string"));
    }
}
