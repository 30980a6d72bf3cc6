using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Miniss.Generators.Tests;

/// <summary>
/// One run of <see cref="IoOperationGenerator"/> over a compilation, with step tracking on: what it generated, what it
/// reported, and the driver to run again after an edit.
/// </summary>
internal sealed class GeneratorRun
{
    /// <summary>"Type.Method.g.cs" of a hint name, which the generator prefixes with the type's namespace.</summary>
    public static string ShortName(string hintName)
    {
        string[] parts = hintName.Split('.');
        return string.Join(".", parts[^4..]);
    }

    private GeneratorRun(GeneratorDriver driver, Compilation output, ImmutableArray<Diagnostic> driverDiagnostics)
    {
        Driver = driver;
        Output = output;
        DriverDiagnostics = driverDiagnostics;
        Result = driver.GetRunResult().Results.Single();
        Sources = Result.GeneratedSources.ToDictionary(s => s.HintName, s => s.SourceText.ToString(), StringComparer.Ordinal);
    }

    /// <summary>The driver after this run; run it again on an edited compilation to see what was cached.</summary>
    public GeneratorDriver Driver { get; }

    /// <summary>The input compilation with the generated sources added.</summary>
    public Compilation Output { get; }

    /// <summary>What the driver reported: the generator's diagnostics and any exception it threw (CS8784/CS8785).</summary>
    public ImmutableArray<Diagnostic> DriverDiagnostics { get; }

    /// <summary>The generator's result: its sources, diagnostics, exception and tracked steps.</summary>
    public GeneratorRunResult Result { get; }

    /// <summary>Generated source text by hint name.</summary>
    public IReadOnlyDictionary<string, string> Sources { get; }

    /// <summary>Runs a fresh generator over <paramref name="compilation"/>.</summary>
    public static GeneratorRun Of(Compilation compilation)
    {
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [new IoOperationGenerator().AsSourceGenerator()],
            parseOptions: CatalogCompilation.ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        return Continue(driver, compilation);
    }

    /// <summary>Runs this run's driver again over <paramref name="edited"/>, as an IDE does after an edit.</summary>
    public GeneratorRun Rerun(Compilation edited) => Continue(Driver, edited);

    /// <summary>The outputs of the tracked step <paramref name="stepName"/> with why each was produced.</summary>
    public IEnumerable<(object Value, IncrementalStepRunReason Reason)> StepOutputs(string stepName) =>
        Result.TrackedSteps.TryGetValue(stepName, out ImmutableArray<IncrementalGeneratorRunStep> steps)
            ? steps.SelectMany(step => step.Outputs)
            : throw new InvalidOperationException($"the generator tracked no step named '{stepName}'");

    private static GeneratorRun Continue(GeneratorDriver driver, Compilation compilation)
    {
        GeneratorDriver ran = driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        return new GeneratorRun(ran, output, diagnostics);
    }
}
