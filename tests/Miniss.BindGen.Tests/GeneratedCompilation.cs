using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NUnit.Framework;

namespace Miniss.BindGen.Tests;

/// <summary>
/// Compiles generated C# in memory with Roslyn, the way <c>bindings/Miniss.Bindings</c> builds it: unsafe code, XML
/// documentation checked, warnings as errors (CS8981, lower-case type names, is off as in that project). The four
/// attributes the generated code uses come from small stand-ins, so the test does not depend on the bindings project.
/// </summary>
internal static class GeneratedCompilation
{
    private const string AttributeStandIns =
        "using System;\n" +
        "\n" +
        "namespace Miniss.Bindings;\n" +
        "\n" +
        "/// <summary>Stand-in.</summary>\n" +
        "[AttributeUsage(AttributeTargets.All)]\n" +
        "public sealed class NativeTypeNameAttribute(string name) : Attribute\n" +
        "{\n" +
        "    /// <summary>Stand-in.</summary>\n" +
        "    public string Name { get; } = name;\n" +
        "}\n" +
        "\n" +
        "/// <summary>Stand-in.</summary>\n" +
        "[AttributeUsage(AttributeTargets.Struct)]\n" +
        "public sealed class NativeLayoutAttribute(int size, int alignment) : Attribute\n" +
        "{\n" +
        "    /// <summary>Stand-in.</summary>\n" +
        "    public int Size { get; } = size;\n" +
        "    /// <summary>Stand-in.</summary>\n" +
        "    public int Alignment { get; } = alignment;\n" +
        "}\n" +
        "\n" +
        "/// <summary>Stand-in.</summary>\n" +
        "[AttributeUsage(AttributeTargets.Struct | AttributeTargets.Class)]\n" +
        "public sealed class NativeHeaderAttribute(string fileName) : Attribute\n" +
        "{\n" +
        "    /// <summary>Stand-in.</summary>\n" +
        "    public string FileName { get; } = fileName;\n" +
        "}\n" +
        "\n" +
        "/// <summary>Stand-in.</summary>\n" +
        "[AttributeUsage(AttributeTargets.Method)]\n" +
        "public sealed class NativeFlexibleArrayAttribute(string name, int offset) : Attribute\n" +
        "{\n" +
        "    /// <summary>Stand-in.</summary>\n" +
        "    public string Name { get; } = name;\n" +
        "    /// <summary>Stand-in.</summary>\n" +
        "    public int Offset { get; } = offset;\n" +
        "}\n";

    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(LoadReferences);

    /// <summary>Compiles every generated file of <paramref name="tree"/> with the attribute stand-ins; fails the test on any error.</summary>
    public static CSharpCompilation AssertCompiles(BindGenTree tree)
    {
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string file in tree.OutputFiles())
        {
            sources[file] = tree.Read(file);
        }

        CSharpCompilation compilation = Create(sources);
        Diagnostic[] errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        Assert.That(errors, Is.Empty, () => Describe(errors, sources));
        return compilation;
    }

    /// <summary>A compilation of <paramref name="sources"/> (path → text) and the attribute stand-ins.</summary>
    public static CSharpCompilation Create(IReadOnlyDictionary<string, string> sources)
    {
        var parseOptions = new CSharpParseOptions(LanguageVersion.Latest, DocumentationMode.Diagnose);
        var trees = new List<SyntaxTree> { CSharpSyntaxTree.ParseText(AttributeStandIns, parseOptions, "NativeAttributes.cs") };
        foreach ((string path, string text) in sources.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            trees.Add(CSharpSyntaxTree.ParseText(text, parseOptions, path));
        }

        var options = new CSharpCompilationOptions(
            OutputKind.DynamicallyLinkedLibrary,
            allowUnsafe: true,
            nullableContextOptions: NullableContextOptions.Enable,
            generalDiagnosticOption: ReportDiagnostic.Error,
            specificDiagnosticOptions: new Dictionary<string, ReportDiagnostic> { ["CS8981"] = ReportDiagnostic.Suppress });
        return CSharpCompilation.Create("Generated" + Guid.NewGuid().ToString("N"), trees, s_references.Value, options);
    }

    /// <summary>
    /// Emits <paramref name="compilation"/>, loads it into a collectible context, runs <paramref name="use"/> on it,
    /// and unloads it.
    /// </summary>
    public static void WithLoadedAssembly(CSharpCompilation compilation, Action<Assembly> use)
    {
        using var image = new MemoryStream();
        Microsoft.CodeAnalysis.Emit.EmitResult result = compilation.Emit(image);
        Assert.That(result.Success, Is.True, () => string.Join("\n", result.Diagnostics));
        image.Position = 0;
        var context = new AssemblyLoadContext(compilation.AssemblyName, isCollectible: true);
        try
        {
            use(context.LoadFromStream(image));
        }
        finally
        {
            context.Unload();
        }
    }

    private static string Describe(Diagnostic[] errors, IReadOnlyDictionary<string, string> sources) =>
        $"{errors.Length} compile errors:\n" + string.Join("\n", errors.Select(e => e.ToString())) + "\n\n" +
        string.Join("\n", sources.Select(s => $"--- {s.Key}\n{s.Value}"));

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        string trusted = AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string
            ?? throw new InvalidOperationException("the runtime lists no trusted platform assemblies");
        return trusted.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(path =>
            {
                string name = Path.GetFileName(path);
                return name.StartsWith("System.", StringComparison.Ordinal) || name is "mscorlib.dll" or "netstandard.dll";
            })
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToImmutableArray();
    }
}
