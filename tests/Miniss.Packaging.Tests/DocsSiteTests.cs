using System;
using System.Diagnostics;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Miniss.Packaging.Tests;

/// <summary>
/// The documentation site builds: <c>dotnet cake --target=Docs</c> compiles the guides' snippets, runs docfx with
/// warnings as errors (a broken cross reference or link fails it), and writes the guides, the existing pages and an
/// API page per public type of Miniss.Runtime, Miniss.Hosting and Miniss.AspNetCore. The build runs once for the
/// fixture (about two minutes on two cores, most of it docfx).
/// </summary>
[TestFixture]
[Platform("Linux")]
[NonParallelizable]
public sealed partial class DocsSiteTests
{
    private static readonly string[] s_guides =
        ["getting-started", "shard-model", "files", "networking", "porting", "backends", "deployment", "benchmarks"];

    private string _root = null!;
    private string _site = null!;
    private int _exitCode;
    private string _output = null!;

    [OneTimeSetUp]
    public void BuildTheSite()
    {
        _root = RepositoryRoot();
        _site = Path.Combine(_root, "artifacts", "docs", "site");
        (_exitCode, _output) = Run(_root, "dotnet", "cake --target=Docs", TimeSpan.FromMinutes(15));
    }

    [Test]
    public void The_Docs_target_succeeds_and_docfx_reports_no_warning()
    {
        Assert.That(_exitCode, Is.Zero, $"dotnet cake --target=Docs failed:\n{_output}");
        // docfx prints its totals twice (the build and the summary); every one of them must be zero.
        MatchCollection warnings = DocfxWarnings().Matches(_output);
        Assert.That(warnings, Is.Not.Empty, $"docfx printed no warning count:\n{_output}");
        foreach (Match warning in warnings)
        {
            Assert.That(warning.Groups[1].Value, Is.EqualTo("0"), $"docfx reported warnings:\n{_output}");
        }
    }

    [Test]
    public void The_site_has_every_guide_and_the_existing_pages_with_their_text()
    {
        Assert.That(Page("index.html"), Does.Contain("thread-per-core"));
        foreach (string guide in s_guides)
        {
            Assert.That(Page($"guides/{guide}.html"), Does.Contain("<h1"), guide);
        }

        Assert.That(Page("guides/getting-started.html"), Does.Contain("MinissRuntime.Start()"), "the first program is included from the snippets");
        Assert.That(Page("guides/shard-model.html"), Does.Contain("Sharded&lt;RequestCounter&gt;.StartAsync"));
        Assert.That(Page("guides/deployment.html"), Does.Contain("io_uring_register"));
        Assert.That(Page("architecture.html"), Does.Contain("How Miniss is built"));
        Assert.That(Page("benchmarks.html"), Does.Contain("Miniss benchmarks"));
    }

    [Test]
    public void The_API_reference_has_pages_for_the_runtime_hosting_and_AspNetCore_types()
    {
        Assert.That(Page("api/Miniss.MinissRuntime.html"), Does.Contain("SubmitTo"));
        Assert.That(Page("api/Miniss.Net.ShardConnection.html"), Does.Contain("ReceiveAsync"));
        Assert.That(Page("api/Miniss.Storage.DmaFile.html"), Does.Contain("AllocateBuffer"));
        Assert.That(Page("api/Miniss.Hosting.MinissServiceCollectionExtensions.html"), Does.Contain("AddMiniss"));
        Assert.That(Page("api/Miniss.AspNetCore.MinissWebHostBuilderExtensions.html"), Does.Contain("UseMiniss"));
    }

    [Test]
    public void The_getting_started_program_prints_what_the_guide_shows()
    {
        string program = Path.Combine(_root, "docs", "snippets", "bin", "Release", "net10.0", "miniss-docs-snippets.dll");
        Assert.That(File.Exists(program), Is.True, $"the Docs target builds the program:\n{_output}");
        (int exitCode, string output) = Run(_root, "dotnet", $"\"{program}\"", TimeSpan.FromMinutes(2));

        Assert.That(exitCode, Is.Zero, output);
        Assert.That(output, Does.Match(@"\d+ shards on \S+ \("));
        Assert.That(output, Does.Match(@"hello from shards 0(, \d+)*"));
        Assert.That(output, Does.Contain("echoed: hello, Miniss"));
    }

    /// <summary>docfx includes nothing, and says nothing, for a snippet tag that is not in its file: every tag a guide
    /// names must open and close in the file it names.</summary>
    [Test]
    public void Every_snippet_a_guide_includes_is_tagged_in_its_file()
    {
        string docs = Path.Combine(_root, "docs");
        int includes = 0;
        foreach (string guide in Directory.GetFiles(Path.Combine(docs, "guides"), "*.md"))
        {
            foreach (Match include in SnippetInclude().Matches(File.ReadAllText(guide)))
            {
                includes++;
                string file = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(guide)!, include.Groups[1].Value));
                string tag = include.Groups[2].Value;
                Assert.That(File.Exists(file), Is.True, $"{Path.GetFileName(guide)} includes {file}, which does not exist");
                string code = File.ReadAllText(file);
                Assert.That(code, Does.Contain($"// <{tag}>").And.Contain($"// </{tag}>"),
                    $"{Path.GetFileName(guide)} includes #{tag} of {Path.GetFileName(file)}, which has no such tag");
            }
        }

        Assert.That(includes, Is.GreaterThan(s_guides.Length), "the guides include their code from the snippets");
    }

    private string Page(string relative)
    {
        string path = Path.Combine(_site, relative);
        Assert.That(File.Exists(path), Is.True, $"{relative} is not in the built site");
        string html = File.ReadAllText(path);
        Assert.That(html, Does.Contain("<article"), $"{relative} has no article");
        return html;
    }

    [GeneratedRegex(@"^\s*(\d+) warning\(s\)", RegexOptions.Multiline)]
    private static partial Regex DocfxWarnings();

    [GeneratedRegex(@"\[!code-csharp\[\]\(([^)#]+)#([^)]+)\)\]")]
    private static partial Regex SnippetInclude();

    private static (int ExitCode, string Output) Run(string directory, string fileName, string arguments, TimeSpan limit)
    {
        var start = new ProcessStartInfo(fileName, arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        // Cake's console colours would split docfx's lines with escape codes.
        start.Environment["NO_COLOR"] = "1";
        using Process process = Process.Start(start)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return (-1, $"{fileName} {arguments} did not finish within {limit}:\n{output}");
        }

        process.WaitForExit();
        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }

    private static string RepositoryRoot([CallerFilePath] string here = "")
    {
        string? directory = Path.GetDirectoryName(here);
        while (directory is not null && !File.Exists(Path.Combine(directory, "Miniss.sln")))
        {
            directory = Path.GetDirectoryName(directory);
        }

        return directory ?? throw new InvalidOperationException($"Miniss.sln not found above {here}");
    }
}
