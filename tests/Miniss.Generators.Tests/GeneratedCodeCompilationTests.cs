using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using NUnit.Framework;

namespace Miniss.Generators.Tests;

/// <summary>
/// The code generated for the sample catalog compiles against stand-ins for the runtime members it calls (see
/// <see cref="CatalogSources.RuntimeStandIns"/>). The runtime's own build proves the same for the real catalog.
/// </summary>
[TestFixture]
public sealed class GeneratedCodeCompilationTests
{
    private static GeneratorRun RunOverSampleWithStandIns() => GeneratorRun.Of(CatalogCompilation.Sample().AddSyntaxTrees(
        CatalogCompilation.Parse(new SourceFile("RuntimeStandIns.cs", CatalogSources.RuntimeStandIns))));

    [Test]
    public void Sample_catalog_and_its_generated_code_compile_without_errors()
    {
        GeneratorRun run = RunOverSampleWithStandIns();
        Assert.That(run.Sources, Is.Not.Empty);

        Diagnostic[] errors = run.Output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();

        Assert.That(errors, Is.Empty, () => Describe(errors, run));
        using var image = new MemoryStream();
        Assert.That(run.Output.Emit(image).Success, Is.True, "the compilation does not emit");
    }

    [Test]
    public void Generated_code_raises_no_warnings()
    {
        // The runtime builds with warnings as errors, generated files included.
        GeneratorRun run = RunOverSampleWithStandIns();

        Diagnostic[] warnings = run.Output.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Warning && run.Result.GeneratedSources.Any(s => s.SyntaxTree == d.Location.SourceTree))
            .ToArray();

        Assert.That(warnings, Is.Empty, () => Describe(warnings, run));
    }

    [Test]
    public void Sample_catalog_compiles_with_no_error_but_the_missing_implementations_before_generation()
    {
        // Guards the other tests: the stand-ins and attribute copies are complete, so the only errors left to the
        // generator are the partial methods it has to implement.
        Compilation input = CatalogCompilation.Sample().AddSyntaxTrees(
            CatalogCompilation.Parse(new SourceFile("RuntimeStandIns.cs", CatalogSources.RuntimeStandIns)));

        string[] errors = input.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Id).Distinct().ToArray();

        Assert.That(errors, Is.EquivalentTo(new[] { "CS8795" }));
    }

    private static string Describe(Diagnostic[] diagnostics, GeneratorRun run) =>
        string.Join("\n", diagnostics.Select(d => d.ToString())) + "\n\n" +
        string.Join("\n", run.Sources.Select(s => $"--- {s.Key}\n{s.Value}"));
}
