using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using NUnit.Framework;

namespace Miniss.Generators.Tests;

/// <summary>
/// What the generator writes, compared with committed baselines (see <see cref="Baseline"/>): for a small sample
/// catalog that uses every role, and for the runtime's real catalog.
/// </summary>
[TestFixture]
public sealed class SnapshotTests
{
    private const string SampleSet = "Sample";
    private const string CatalogSet = "Catalog";

    private static readonly Lazy<GeneratorRun> s_sample = new(() => GeneratorRun.Of(CatalogCompilation.Sample()));
    private static readonly Lazy<GeneratorRun> s_catalog = new(() => GeneratorRun.Of(CatalogCompilation.Runtime()));

    [TestCaseSource(nameof(SampleFiles))]
    public void Sample_operation_matches_its_baseline(string hintName) =>
        Baseline.AssertMatches(SampleSet, hintName, s_sample.Value.Sources[hintName]);

    [TestCaseSource(nameof(CatalogFiles))]
    public void Runtime_catalog_operation_matches_its_baseline(string hintName) =>
        Baseline.AssertMatches(CatalogSet, hintName, s_catalog.Value.Sources[hintName]);

    [Test]
    public void Sample_catalog_generates_one_file_per_operation_and_reports_nothing() =>
        AssertOneFilePerOperation(s_sample.Value);

    [Test]
    public void Runtime_catalog_generates_one_file_per_operation_and_reports_nothing() =>
        AssertOneFilePerOperation(s_catalog.Value);

    [Test]
    public void Every_sample_baseline_is_of_a_generated_file() =>
        Baseline.AssertNoneStale(SampleSet, s_sample.Value.Sources.Keys);

    [Test]
    public void Every_runtime_catalog_baseline_is_of_a_generated_file() =>
        Baseline.AssertNoneStale(CatalogSet, s_catalog.Value.Sources.Keys);

    private static IEnumerable<TestCaseData> SampleFiles() => Cases(s_sample.Value);

    private static IEnumerable<TestCaseData> CatalogFiles() => Cases(s_catalog.Value);

    private static IEnumerable<TestCaseData> Cases(GeneratorRun run) =>
        run.Sources.Keys.Order(StringComparer.Ordinal).Select(hintName => new TestCaseData(hintName).SetArgDisplayNames(hintName));

    private static void AssertOneFilePerOperation(GeneratorRun run)
    {
        // Every method of the input that carries [IoOperation], found by syntax, independently of the generator.
        string[] declared = run.Output.SyntaxTrees
            .Where(tree => !tree.FilePath.EndsWith(".g.cs", StringComparison.Ordinal))
            .SelectMany(tree => tree.GetRoot().DescendantNodes().OfType<MethodDeclarationSyntax>())
            .Where(method => method.AttributeLists.SelectMany(list => list.Attributes).Any(a => a.Name.ToString() == "IoOperation"))
            .Select(method => $"{((TypeDeclarationSyntax)method.Parent!).Identifier.Text}.{method.Identifier.Text}.g.cs")
            .ToArray();

        // Besides, one list of the opcodes each declaring type uses: "Namespace.Type.g.cs".
        string[] types = declared.Select(name => name.Split('.')[0]).Distinct().ToArray();
        bool IsOpcodeList(string hintName) => types.Any(type => hintName == type + ".g.cs" || hintName.EndsWith("." + type + ".g.cs", StringComparison.Ordinal));

        Assert.Multiple(() =>
        {
            Assert.That(run.Result.Exception, Is.Null);
            Assert.That(run.DriverDiagnostics, Is.Empty);
            Assert.That(declared, Is.Not.Empty);
            Assert.That(run.Sources.Keys.Where(key => !IsOpcodeList(key)).Select(GeneratorRun.ShortName), Is.EquivalentTo(declared));
            Assert.That(run.Sources.Keys.Count(IsOpcodeList), Is.EqualTo(types.Length));
        });
    }
}
