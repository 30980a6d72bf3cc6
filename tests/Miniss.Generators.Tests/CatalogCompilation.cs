using System;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Miniss.Bindings.Linux;

namespace Miniss.Generators.Tests;

/// <summary>One C# file of a test compilation.</summary>
internal sealed record SourceFile(string Path, string Text);

/// <summary>
/// In-memory compilations of catalog sources, built the way the runtime builds its catalog: latest C#, unsafe code,
/// nullable enabled, the shared framework and Miniss.Bindings (the generator reads <c>io_uring_sqe</c>'s fields and
/// <c>Libc</c>'s signatures from it) as references.
/// </summary>
internal static class CatalogCompilation
{
    public const string RuntimeCatalogPath = "runtime/Miniss.Runtime/IO/IoOperations.cs";
    public const string RuntimeAttributesPath = "runtime/Miniss.Runtime/IO/Catalog/IoOperationAttribute.cs";

    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly Lazy<ImmutableArray<MetadataReference>> s_framework = new(LoadFramework);
    private static readonly Lazy<MetadataReference> s_bindings = new(() => MetadataReference.CreateFromFile(typeof(io_uring_sqe).Assembly.Location));

    /// <summary>Miniss.Bindings, as every test compilation references it.</summary>
    public static MetadataReference Bindings => s_bindings.Value;

    /// <summary>A compilation of <paramref name="files"/>.</summary>
    public static CSharpCompilation Create(params SourceFile[] files) =>
        CSharpCompilation.Create(
            "Catalog" + Guid.NewGuid().ToString("N"),
            files.Select(Parse),
            s_framework.Value.Add(s_bindings.Value),
            new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary,
                allowUnsafe: true,
                nullableContextOptions: NullableContextOptions.Enable,
                warningLevel: 9999));

    /// <summary>The attribute copies and one catalog file, <c>Catalog.cs</c>.</summary>
    public static CSharpCompilation OfCatalog(string catalog) =>
        Create(new SourceFile("Attributes.cs", CatalogSources.Attributes), new SourceFile("Catalog.cs", catalog));

    /// <summary>The attribute copies and the sample catalog (<see cref="CatalogSources.SampleCatalog"/>, <see cref="CatalogSources.GlobalCatalog"/>).</summary>
    public static CSharpCompilation Sample() => Create(
        new SourceFile("Attributes.cs", CatalogSources.Attributes),
        new SourceFile("SampleOperations.cs", CatalogSources.SampleCatalog),
        new SourceFile("GlobalOperations.cs", CatalogSources.GlobalCatalog));

    /// <summary>The runtime's real catalog and its attributes, read from the repository.</summary>
    public static CSharpCompilation Runtime() => Create(
        new SourceFile(RuntimeAttributesPath, Repository.Read(RuntimeAttributesPath)),
        new SourceFile(RuntimeCatalogPath, Repository.Read(RuntimeCatalogPath)));

    /// <summary><paramref name="file"/> parsed with the options the generator driver uses too.</summary>
    public static SyntaxTree Parse(SourceFile file) => CSharpSyntaxTree.ParseText(file.Text, ParseOptions, file.Path);

    private static ImmutableArray<MetadataReference> LoadFramework()
    {
        // The shared framework's trusted platform assemblies only: the test host's list also holds NUnit, Roslyn and
        // this test assembly, which the compiled catalogs must not see.
        string framework = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        string trusted = AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string
            ?? throw new InvalidOperationException("the runtime lists no trusted platform assemblies");
        return trusted.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(path => string.Equals(Path.GetDirectoryName(path), framework, StringComparison.Ordinal))
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToImmutableArray();
    }
}
