using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Reflection;
using System.Xml.Linq;
using NUnit.Framework;

namespace Miniss.Packaging.Tests;

/// <summary>
/// The packages carry what nuget.org shows and checks: repository and project URL, license, a README of their own,
/// symbols, validation at pack time; and nothing a consumer's build should not load (the runtime's internal
/// operation generator). Each package is packed once, from the solution's build, into a feed of this fixture.
/// </summary>
[TestFixture]
[Platform("Linux")]
public sealed class PackageMetadataTests
{
    private const string Version = "0.1.0-preview.1";
    private static readonly TimeSpan PackLimit = TimeSpan.FromMinutes(5);
    private static readonly string[] Projects =
    [
        "bindings/Miniss.Bindings/Miniss.Bindings.csproj",
        "runtime/Miniss.Runtime/Miniss.Runtime.csproj",
        "runtime/Miniss.Hosting/Miniss.Hosting.csproj",
        "runtime/Miniss.AspNetCore/Miniss.AspNetCore.csproj",
    ];

    private static readonly string[] Packages = Projects.Select(p => Path.GetFileNameWithoutExtension(p)).ToArray();

    private string _work = null!;
    private string _feed = null!;
    private readonly Dictionary<string, string> _packOutput = [];

    [OneTimeSetUp]
    public void Pack()
    {
        _work = Directory.CreateTempSubdirectory("miniss-packages-").FullName;
        _feed = Path.Combine(_work, "feed");
        foreach (string project in Projects)
        {
            // Pack as "dotnet pack --no-build" does, asking MSBuild for the outcome of the package validation target.
            _packOutput[Path.GetFileNameWithoutExtension(project)] = Commands.Dotnet(Commands.RepositoryRoot(),
                $"msbuild {project} -t:Pack -p:Configuration={Configuration} -p:NoBuild=true -p:PackageOutputPath={_feed} -nologo -getTargetResult:RunPackageValidation",
                PackLimit);
        }
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        if (_work is not null)
        {
            Directory.Delete(_work, recursive: true);
        }
    }

    private static string Configuration =>
        typeof(PackageMetadataTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    [TestCaseSource(nameof(Packages))]
    public void A_package_names_its_repository_project_page_and_license(string package)
    {
        XElement metadata = Nuspec(package);

        XElement? repository = Element(metadata, "repository");
        Assert.That(repository?.Attribute("type")?.Value, Is.EqualTo("git"), "repository type");
        Assert.That(repository?.Attribute("url")?.Value, Does.StartWith("https://"), "repository URL");
        Assert.That(repository?.Attribute("commit")?.Value, Does.Match("^[0-9a-f]{40}$"), "the commit it was built from");
        Assert.That(Element(metadata, "projectUrl")?.Value, Does.StartWith("https://").And.Not.Contains(".invalid"), "project URL");
        Assert.That(Element(metadata, "license")?.Value, Is.EqualTo("MIT"));
        Assert.That(Element(metadata, "authors")?.Value, Is.Not.Empty);
        Assert.That(Element(metadata, "tags")?.Value, Does.Contain("io_uring"));
    }

    [TestCaseSource(nameof(Packages))]
    public void A_package_carries_its_own_consumer_README(string package)
    {
        XElement metadata = Nuspec(package);
        Assert.That(Element(metadata, "readme")?.Value, Is.EqualTo("README.md"));

        using ZipArchive archive = ZipFile.OpenRead(Path.Combine(_feed, $"{package}.{Version}.nupkg"));
        using var reader = new StreamReader(archive.GetEntry("README.md")!.Open());
        string readme = reader.ReadToEnd();
        string contributorReadme = File.ReadAllText(Path.Combine(Commands.RepositoryRoot(), "README.md"));
        Assert.That(readme, Is.Not.EqualTo(contributorReadme), "the repository's README is for contributors");
        Assert.That(readme.Split('\n')[0], Does.StartWith("# ").And.Contain(package), "the README is about this package");
    }

    [TestCaseSource(nameof(Packages))]
    public void A_package_has_no_analyzer_and_no_dependency_on_the_internal_generator(string package)
    {
        using ZipArchive archive = ZipFile.OpenRead(Path.Combine(_feed, $"{package}.{Version}.nupkg"));
        Assert.That(archive.Entries.Select(e => e.FullName), Has.None.StartsWith("analyzers/"),
            "Miniss.Generators reads an internal attribute of Miniss.Runtime: no consumer build can use it");
        string[] dependencies = Nuspec(package).Descendants().Where(e => e.Name.LocalName == "dependency")
            .Select(e => e.Attribute("id")!.Value).ToArray();
        Assert.That(dependencies, Has.None.StartsWith("Miniss.Generators"));
    }

    [TestCaseSource(nameof(Packages))]
    public void A_package_is_validated_when_packed_with_symbols_beside_it(string package)
    {
        Assert.That(_packOutput[package], Does.Match("\"RunPackageValidation\":\\s*\\{\\s*\"Result\":\\s*\"Success\""),
            "EnablePackageValidation ran the validation target");
        Assert.That(File.Exists(Path.Combine(_feed, $"{package}.{Version}.snupkg")), Is.True, "symbols are packed");
    }

    [Test]
    public void Packing_prints_no_warning()
    {
        foreach ((string package, string output) in _packOutput)
        {
            Assert.That(output, Does.Not.Match(@"\bwarning [A-Z]+[0-9]+\s*:"), $"packing {package}");
        }
    }

    [Test, CancelAfter(300_000)]
    public void The_repository_URL_given_at_pack_time_replaces_the_default_for_repository_and_project_page()
    {
        string feed = Path.Combine(_work, "override");
        Commands.Dotnet(Commands.RepositoryRoot(),
            $"pack bindings/Miniss.Bindings/Miniss.Bindings.csproj -c {Configuration} --no-build -o {feed} -p:RepositoryUrl=https://git.example.org/fork/miniss",
            PackLimit);

        XElement metadata = Nuspec(Path.Combine(feed, $"Miniss.Bindings.{Version}.nupkg"), "Miniss.Bindings");
        Assert.That(Element(metadata, "repository")?.Attribute("url")?.Value, Is.EqualTo("https://git.example.org/fork/miniss"));
        Assert.That(Element(metadata, "projectUrl")?.Value, Is.EqualTo("https://git.example.org/fork/miniss"));
    }

    [TestCase("CI", "true", "true")]
    [TestCase("MINISS_CI", "true", "true")]
    [TestCase("MINISS_CI", "false", "")]
    public void A_CI_build_of_a_library_is_a_continuous_integration_build(string variable, string value, string expected)
    {
        // Evaluation only: what a build of the library would use. CI itself may have set CI=true for this process.
        var environment = new Dictionary<string, string> { ["CI"] = "", ["MINISS_CI"] = "", [variable] = value };
        string property = Commands.Dotnet(Commands.RepositoryRoot(),
            "msbuild bindings/Miniss.Bindings/Miniss.Bindings.csproj -nologo -getProperty:ContinuousIntegrationBuild", PackLimit, environment);

        Assert.That(property.Trim(), Is.EqualTo(expected));
    }

    private XElement Nuspec(string package) => Nuspec(Path.Combine(_feed, $"{package}.{Version}.nupkg"), package);

    private static XElement Nuspec(string nupkg, string package)
    {
        using ZipArchive archive = ZipFile.OpenRead(nupkg);
        using Stream nuspec = archive.GetEntry($"{package}.nuspec")!.Open();
        return Element(XDocument.Load(nuspec).Root!, "metadata")!;
    }

    private static XElement? Element(XElement parent, string name) => parent.Elements().FirstOrDefault(e => e.Name.LocalName == name);
}
