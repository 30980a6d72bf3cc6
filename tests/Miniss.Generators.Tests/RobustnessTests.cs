using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NUnit.Framework;

namespace Miniss.Generators.Tests;

/// <summary>
/// A wrong or half-typed declaration never makes the generator throw: an exception would surface as CS8785 and drop
/// every operation's source, the correct ones too. The generator answers with its own diagnostics instead.
/// </summary>
[TestFixture]
public sealed class RobustnessTests
{
    private const string Usings = """
        using System;
        using System.Runtime.InteropServices;
        using System.Threading;
        using System.Threading.Tasks;
        using Miniss.IO.Catalog;

        """;

    /// <summary>Declarations that do not compile or break the catalog's rules in ways the diagnostics do not name.</summary>
    private const string WrongDeclarations = Usings + """
        namespace Checks
        {
            public static partial class Ops
            {
                [IoOperation(0)] public static partial ValueTask<int> GoodAsync();

                [IoOperation] public static partial ValueTask<int> NoOpcodeAsync();
                [IoOperation("read")] public static partial ValueTask<int> StringOpcodeAsync();
                [IoOperation(0)][IoOperation(1)] public static partial ValueTask<int> TwiceDeclaredAsync();
                [IoOperation(0, Name = null)] public static partial ValueTask<int> NullNameAsync();
                [IoOperation(0, Readiness = (ReadinessKind)99)] public static partial ValueTask<int> UnknownReadinessAsync();
                [IoOperation(0, Result = (IoResultKind)(-1), Domain = (IoDomain)7)] public static partial ValueTask<int> UnknownKindsAsync();
                [IoOperation(0, Readiness = ReadinessKind.Read, Syscall = "")] public static partial ValueTask<int> EmptySyscallAsync();
                [IoOperation(0, Syscall = "IORING_OP_NOP")] public static partial ValueTask<int> SyscallNotAFunctionAsync();
                [IoOperation(0)] public static partial ValueTask<int> NoFieldAsync([Sqe] long value);
                [IoOperation(0)] public static partial ValueTask<int> NullFieldAsync([Sqe(null)] long value);
                [IoOperation(0)] public static partial ValueTask<int> NumberFieldAsync([Sqe(42)] long value);
                [IoOperation(0)] public static partial ValueTask<int> UnknownTypeAsync([Sqe("off")] Unknown value);
                [IoOperation(0)] public static partial ValueTask<int> ArrayFieldAsync([Sqe("off")] params long[] values);
                [IoOperation(0)] public static partial ValueTask<int> NullablePathAsync([Path] string? path);
                [IoOperation(0)] public static partial ValueTask<int> NullableHandleAsync([Fd] SafeHandle? handle);
                [IoOperation(0)] public static partial ValueTask<int> TwoRolesAsync([Fd, Path] string both);
                [IoOperation(0)][SqeValue("len")] public static partial ValueTask<int> ValueMissingAsync();
                [IoOperation(0)][SqeValue("len", "one")] public static partial ValueTask<int> ValueStringAsync();
                [IoOperation(0)][SqeValue("len", 1.5)] public static partial ValueTask<int> ValueDoubleAsync();
                [IoOperation(0)][SqeValue("len", ulong.MaxValue)] public static partial ValueTask<int> ValueTooLargeAsync();
                [IoOperation(0)][SqeValue(null, 1)] public static partial ValueTask<int> ValueNullFieldAsync();
                [IoOperation(0)] public static partial Unknown UnknownReturnAsync();
                [IoOperation(0)] public static partial void VoidAsync();
                [IoOperation(0)] public static partial ValueTask<int> UnfinishedAsync([Sqe("off") long offset;
                [IoOperation(0)] static ValueTask<int> LocalHolderAsync() { [IoOperation(0)] static ValueTask<int> Local() => default; return Local(); }
            }

            public static class NotPartial { [IoOperation(0)] public static partial ValueTask<int> NotPartialAsync(); }
            public partial struct Value { [IoOperation(0)] public static partial ValueTask<int> StructAsync(); }
            public partial record Record { [IoOperation(0)] public static partial ValueTask<int> RecordAsync(); }
            public static partial class Outer { public static partial class Inner { [IoOperation(0)] public static partial ValueTask<int> NestedAsync(); } }
        }
        """;

    [Test]
    public void Wrong_declarations_never_make_the_generator_throw()
    {
        GeneratorRun run = GeneratorRun.Of(CatalogCompilation.OfCatalog(WrongDeclarations));

        AssertDidNotThrow(run);
        Assert.That(run.Sources.Keys.Select(GeneratorRun.ShortName), Does.Contain("Ops.GoodAsync.g.cs"));
    }

    [Test]
    public void Without_Miniss_Bindings_the_generator_reports_unknown_fields_and_functions_instead_of_throwing()
    {
        const string Catalog = Usings + """
            namespace Checks;

            public static partial class Ops
            {
                [IoOperation(0)] public static partial ValueTask<int> NopAsync();
                [IoOperation(0)] public static partial ValueTask<int> SeekAsync([Sqe("off")] long offset);
                [IoOperation(0, Syscall = "close")] public static partial ValueTask<int> CloseAsync([Fd] int fd);
            }
            """;
        GeneratorRun run = GeneratorRun.Of(CatalogCompilation.OfCatalog(Catalog).RemoveReferences(CatalogCompilation.Bindings));

        AssertDidNotThrow(run);
        Assert.That(run.Result.Diagnostics.Select(d => d.Id), Is.EquivalentTo(new[] { "MNS0003", "MNS0007" }));
        Assert.That(run.Sources.Keys, Is.EquivalentTo(new[] { "Checks.Ops.NopAsync.g.cs", "Checks.Ops.g.cs" }), "an operation that needs neither an SQE field nor a system call is still written, with the opcode list");
    }

    [Test]
    public void Every_prefix_of_a_declaration_being_typed_leaves_the_generator_standing()
    {
        // What an IDE hands the generator while someone types a declaration, one token at a time.
        const string Typed = """
            [IoOperation(22, Name = "read", Readiness = ReadinessKind.Blocking, Syscall = "pread"), SqeValue("rw_flags", 1)]
            public static partial ValueTask<int> TypedAsync([Fd] SafeHandle file, [Buffer] Memory<byte> buffer, [Sqe("off")] long offset, CancellationToken cancellationToken = default);
            """;
        SyntaxToken[] tokens = SyntaxFactory.ParseTokens(Typed).ToArray();
        GeneratorRun? previous = null;
        foreach (int end in tokens.Select(t => t.Span.End).Distinct())
        {
            string catalog = Usings + "namespace Checks;\n\npublic static partial class Ops\n{\n    [IoOperation(0)] public static partial ValueTask<int> GoodAsync();\n\n    "
                + Typed[..end] + "\n}\n";
            Compilation compilation = CatalogCompilation.OfCatalog(catalog);

            // Run both ways: fresh, and incrementally on the previous keystroke's driver.
            GeneratorRun fresh = GeneratorRun.Of(compilation);
            AssertDidNotThrow(fresh, Typed[..end]);
            if (previous is not null)
            {
                AssertDidNotThrow(previous.Rerun(compilation), Typed[..end]);
            }

            previous = fresh;
        }

        Assert.That(previous!.Sources.Keys, Is.EquivalentTo(new[] { "Checks.Ops.GoodAsync.g.cs", "Checks.Ops.TypedAsync.g.cs", "Checks.Ops.g.cs" }), "the finished declaration is written");
    }

    private static void AssertDidNotThrow(GeneratorRun run, string? input = null)
    {
        string context = input is null ? string.Empty : $"\nwith the declaration typed so far:\n{input}";
        Assert.That(run.Result.Exception, Is.Null, () => $"the generator threw: {run.Result.Exception}{context}");
        Assert.That(run.DriverDiagnostics.Where(d => d.Id is "CS8784" or "CS8785" or "AD0001"), Is.Empty, context);
        IEnumerable<Diagnostic> foreign = run.Result.Diagnostics.Where(d => !d.Id.StartsWith("MNS", StringComparison.Ordinal) || d.Severity != DiagnosticSeverity.Error);
        Assert.That(foreign, Is.Empty, context);
    }
}
