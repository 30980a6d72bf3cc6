using System;
using System.Collections;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using NUnit.Framework;

namespace Miniss.Generators.Tests;

/// <summary>
/// The pipeline's caching: the driver runs twice, and the tracked steps (<see cref="IoOperationGenerator.Steps"/>) say
/// what the second run recomputed. An edit outside the catalog recomputes nothing; an edit to one declaration
/// recomputes that operation only.
/// </summary>
[TestFixture]
public sealed class IncrementalityTests
{
    private const string Unrelated = """
        namespace Sample.Other;

        // Not part of the catalog.
        public static class Arithmetic
        {
            public static int Twice(int value) => value * 2;
        }
        """;

    private static readonly string[] s_steps = [IoOperationGenerator.Steps.Operations, IoOperationGenerator.Steps.Models];

    [Test]
    public void Adding_an_unrelated_file_recomputes_nothing()
    {
        Compilation before = CatalogCompilation.Sample();
        GeneratorRun first = GeneratorRun.Of(before);

        GeneratorRun second = first.Rerun(before.AddSyntaxTrees(CatalogCompilation.Parse(new SourceFile("Arithmetic.cs", Unrelated))));

        AssertNothingRecomputed(second);
    }

    [Test]
    public void Editing_a_method_body_and_a_comment_outside_the_catalog_recomputes_nothing()
    {
        Compilation before = CatalogCompilation.Sample().AddSyntaxTrees(CatalogCompilation.Parse(new SourceFile("Arithmetic.cs", Unrelated)));
        GeneratorRun first = GeneratorRun.Of(before);

        string edited = Unrelated
            .Replace("// Not part of the catalog.", "// Not part of the catalog; edited.", StringComparison.Ordinal)
            .Replace("value * 2", "value + value", StringComparison.Ordinal);
        GeneratorRun second = first.Rerun(Replace(before, "Arithmetic.cs", edited));

        AssertNothingRecomputed(second);
    }

    [Test]
    public void Editing_a_comment_in_the_catalog_file_recomputes_nothing()
    {
        // The models hold no locations, so moving every declaration down a line changes none of them.
        Compilation before = CatalogCompilation.Sample();
        GeneratorRun first = GeneratorRun.Of(before);

        GeneratorRun second = first.Rerun(Replace(before, "SampleOperations.cs", "// A new first line.\n" + CatalogSources.SampleCatalog));

        AssertNothingRecomputed(second);
    }

    [Test]
    public void Renaming_one_operation_recomputes_that_operation_only()
    {
        Compilation before = CatalogCompilation.Sample();
        GeneratorRun first = GeneratorRun.Of(before);

        string renamed = CatalogSources.SampleCatalog.Replace("Name = \"read\"", "Name = \"pread\"", StringComparison.Ordinal);
        Assert.That(renamed, Is.Not.EqualTo(CatalogSources.SampleCatalog));
        GeneratorRun second = first.Rerun(Replace(before, "SampleOperations.cs", renamed));

        foreach (string step in s_steps)
        {
            (string Method, IncrementalStepRunReason Reason)[] outputs = second.StepOutputs(step).Select(o => (MethodOf(o.Value), o.Reason)).ToArray();
            Assert.That(outputs.Select(o => o.Method), Is.EquivalentTo(first.StepOutputs(step).Select(o => MethodOf(o.Value))), step);
            Assert.Multiple(() =>
            {
                foreach ((string method, IncrementalStepRunReason reason) in outputs)
                {
                    if (method == "ReadAsync")
                    {
                        Assert.That(reason, Is.EqualTo(IncrementalStepRunReason.Modified), $"{step}: {method}");
                    }
                    else
                    {
                        Assert.That(reason, Is.AnyOf(IncrementalStepRunReason.Unchanged, IncrementalStepRunReason.Cached), $"{step}: {method}");
                    }
                }
            });
        }

        Assert.That(second.Sources["Sample.IO.SampleOperations.ReadAsync.g.cs"], Does.Contain("TryBeginIo(\"pread\""));
        Assert.That(second.Sources.Where(s => s.Key != "Sample.IO.SampleOperations.ReadAsync.g.cs"), Is.EquivalentTo(first.Sources.Where(s => s.Key != "Sample.IO.SampleOperations.ReadAsync.g.cs")));
    }

    [Test]
    public void Renaming_one_operation_leaves_the_opcode_list_unchanged()
    {
        Compilation before = CatalogCompilation.Sample();
        GeneratorRun first = GeneratorRun.Of(before);

        GeneratorRun second = first.Rerun(Replace(before, "SampleOperations.cs",
            CatalogSources.SampleCatalog.Replace("Name = \"read\"", "Name = \"pread\"", StringComparison.Ordinal)));

        (object Value, IncrementalStepRunReason Reason)[] outputs = second.StepOutputs(IoOperationGenerator.Steps.Opcodes).ToArray();
        Assert.That(outputs, Is.Not.Empty);
        Assert.That(outputs.Select(o => o.Reason), Is.All.AnyOf(IncrementalStepRunReason.Unchanged, IncrementalStepRunReason.Cached));
    }

    [Test]
    public void Adding_an_operation_with_a_new_opcode_changes_the_opcode_list()
    {
        Compilation before = CatalogCompilation.Sample();
        GeneratorRun first = GeneratorRun.Of(before);
        string added = CatalogSources.SampleCatalog.Replace(
            "public static partial ValueTask<int> NopAsync();",
            "public static partial ValueTask<int> NopAsync();\n\n    [IoOperation(IoUring.IORING_OP_SENDMSG, Name = \"sendmsg\", Domain = IoDomain.Socket)]\n    public static partial ValueTask<int> SendMessageAsync([Fd] int fd, [Sqe(\"addr\")] nint message);",
            StringComparison.Ordinal);
        Assert.That(added, Is.Not.EqualTo(CatalogSources.SampleCatalog));

        GeneratorRun second = first.Rerun(Replace(before, "SampleOperations.cs", added));

        Assert.That(second.StepOutputs(IoOperationGenerator.Steps.Opcodes).Select(o => o.Reason), Does.Contain(IncrementalStepRunReason.Modified));
        Assert.That(second.Sources["Sample.IO.SampleOperations.g.cs"], Does.Contain("IORING_OP_SENDMSG, \"SENDMSG\")"));
    }

    [Test]
    public void Step_outputs_hold_no_symbols_syntax_or_compilations()
    {
        // A symbol or a syntax node in a model would keep a whole compilation alive and defeat the cache's equality.
        GeneratorRun run = GeneratorRun.Of(CatalogCompilation.OfCatalog(CatalogSources.SampleCatalog.Replace(
            "[Fd] int fd, [Buffer]", "[Fd] int fd, int unmapped, [Buffer]", StringComparison.Ordinal)));
        Assert.That(run.Result.Diagnostics, Is.Not.Empty, "a diagnostic's data is checked too");

        foreach (string step in s_steps.Append(IoOperationGenerator.Steps.Opcodes))
        {
            foreach ((object value, _) in run.StepOutputs(step))
            {
                AssertPlainData(value, $"{step}: {value.GetType().Name}");
            }
        }
    }

    private static void AssertNothingRecomputed(GeneratorRun run)
    {
        Assert.Multiple(() =>
        {
            foreach (string step in s_steps)
            {
                (object Value, IncrementalStepRunReason Reason)[] outputs = run.StepOutputs(step).ToArray();
                Assert.That(outputs, Is.Not.Empty, step);
                foreach ((object value, IncrementalStepRunReason reason) in outputs)
                {
                    Assert.That(reason, Is.AnyOf(IncrementalStepRunReason.Unchanged, IncrementalStepRunReason.Cached), $"{step}: {MethodOf(value)}");
                }
            }
        });
    }

    private static Compilation Replace(Compilation compilation, string path, string text)
    {
        SyntaxTree old = compilation.SyntaxTrees.Single(t => t.FilePath == path);
        return compilation.ReplaceSyntaxTree(old, CatalogCompilation.Parse(new SourceFile(path, text)));
    }

    private static string MethodOf(object output) => output switch
    {
        ParseResult { Operation: { } operation } => operation.MethodName,
        ParseResult result => "(diagnostics: " + string.Join(", ", result.Diagnostics.Select(d => d.Id)) + ")",
        OperationModel model => model.MethodName,
        _ => throw new InvalidOperationException($"unexpected step output {output.GetType()}"),
    };

    /// <summary>Walks <paramref name="value"/>'s fields and fails on anything that roots a compilation.</summary>
    private static void AssertPlainData(object? value, string path)
    {
        switch (value)
        {
            case null or string or Enum:
                return;
            case ISymbol or SyntaxNode or SyntaxTree or SemanticModel or Compilation or Location or AttributeData:
                Assert.Fail($"{path} holds a {value.GetType().Name}");
                return;
            case IEnumerable items:
                int index = 0;
                foreach (object? item in items)
                {
                    AssertPlainData(item, $"{path}[{index++}]");
                }

                return;
        }

        Type type = value.GetType();
        if (type.IsPrimitive || type.Namespace == "Microsoft.CodeAnalysis.Text")
        {
            // Numbers, and TextSpan / LinePositionSpan: plain values.
            return;
        }

        Assert.That(type.Assembly, Is.EqualTo(typeof(IoOperationGenerator).Assembly), $"{path} is a {type}, not one of the generator's models");
        foreach (FieldInfo field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            AssertPlainData(field.GetValue(value), $"{path}.{field.Name}");
        }
    }
}
