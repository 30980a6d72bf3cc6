using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Miniss.Packaging.Tests;

/// <summary>
/// <c>miniss</c> publishes as Native AOT with no trim or AOT warning, and the native program runs: its machine
/// report and a short benchmark of every workload on Miniss and on .NET. The publish (the ahead-of-time compiler is
/// restored as a package) is done once for the fixture, into a folder of its own, so the solution's build outputs are
/// left as they are.
/// </summary>
[TestFixture]
[Platform("Linux")]
[NonParallelizable]
public sealed partial class NativeAotTests
{
    // The publish takes a few minutes on an idle 2-core machine; the ceiling is for a machine busy with other builds.
    private static readonly TimeSpan PublishLimit = TimeSpan.FromMinutes(40);
    private static readonly TimeSpan RunLimit = TimeSpan.FromMinutes(3);

    private string _work = null!;
    private string _publishOutput = null!;
    private string _native = null!;

    [OneTimeSetUp]
    public void Publish()
    {
        _work = Directory.CreateTempSubdirectory("miniss-aot-").FullName;
        string output = Path.Combine(_work, "native");
        string rid = System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier;
        // Release, as the documented command; warnings are errors in every Miniss project, and the artifacts path keeps
        // this build's bin and obj folders apart from the solution's.
        _publishOutput = Commands.Dotnet(Commands.RepositoryRoot(),
            $"publish samples/Miniss.Cli/Miniss.Cli.csproj -c Release -r {rid} -p:PublishAot=true --artifacts-path {Path.Combine(_work, "artifacts")} -o {output}",
            PublishLimit);
        _native = Path.Combine(output, "miniss");
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        if (_work is not null)
        {
            Directory.Delete(_work, recursive: true);
        }
    }

    [Test]
    public void The_publish_is_a_native_program_with_no_trim_or_AOT_warning()
    {
        Assert.That(File.Exists(_native), Is.True, $"no native miniss in the publish folder:\n{_publishOutput}");
        Assert.That(File.Exists(Path.ChangeExtension(_native, ".dll")), Is.False, "a Native AOT publish has no managed entry assembly");
        string[] warnings = _publishOutput.Split('\n').Where(line => WarningLine().IsMatch(line)).Distinct().ToArray();
        Assert.That(warnings, Is.Empty, "trim, AOT or build warnings in the publish");
    }

    [Test, CancelAfter(300_000)]
    public void The_native_miniss_reports_the_machine_as_JSON()
    {
        CommandResult info = Commands.Run(_native, "info --json", _work, RunLimit);

        Assert.That(info.ExitCode, Is.Zero, info.Output);
        using JsonDocument report = JsonDocument.Parse(info.StandardOutput);
        Assert.That(report.RootElement.GetProperty("schema").GetString(), Does.StartWith("miniss-info/"));
        Assert.That(report.RootElement.GetProperty("backend").ValueKind, Is.EqualTo(JsonValueKind.Object), "the backend chosen and why");
    }

    [Test, CancelAfter(300_000)]
    public void The_native_miniss_runs_a_one_second_benchmark_of_every_workload_on_Miniss_and_on_dotnet()
    {
        string data = Directory.CreateDirectory(Path.Combine(_work, "tmp")).FullName;
        CommandResult bench = Commands.Run(_native, "bench --duration 1 --file-size 8 --connections 4 --json -", _work, RunLimit,
            new System.Collections.Generic.Dictionary<string, string> { ["TMPDIR"] = data });

        Assert.That(bench.ExitCode, Is.Zero, bench.Output);
        using JsonDocument report = JsonDocument.Parse(bench.StandardOutput);
        JsonElement[] results = report.RootElement.GetProperty("results").EnumerateArray().ToArray();
        string[] workloads = results.Select(r => r.GetProperty("workload").GetString()!).Distinct().ToArray();
        Assert.That(workloads, Has.Length.GreaterThanOrEqualTo(3), "file reads, TCP echo and cross-shard ping-pong");
        Assert.That(results.Select(r => r.GetProperty("runtime").GetString()), Has.Some.StartsWith("Miniss").And.Some.EqualTo(".NET"));
        Assert.That(results.Select(r => r.GetProperty("operations").GetInt64()), Is.All.GreaterThan(0), "every workload did work");
    }

    // An MSBuild or compiler warning line: "file(1,2): warning IL2026: ..." or "... : warning NETSDK1179: ...".
    [GeneratedRegex(@"\bwarning [A-Z]+[0-9]+\s*:")]
    private static partial Regex WarningLine();
}
