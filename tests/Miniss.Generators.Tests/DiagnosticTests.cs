using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;
using NUnit.Framework;

namespace Miniss.Generators.Tests;

/// <summary>
/// Each diagnostic of a wrong declaration, triggered by the smallest declaration that earns it: an error at the
/// method's or the parameter's name, no source for that operation, and the correct operation beside it still written.
/// </summary>
[TestFixture]
public sealed class DiagnosticTests
{
    private const string Bad = "BadAsync";

    [TestCase("[IoOperation(0)] public static ValueTask<int> BadAsync() => default;", Bad, TestName = "{m}(method with a body)")]
    [TestCase("[IoOperation(0)] public partial ValueTask<int> BadAsync();", Bad, TestName = "{m}(instance method)")]
    [TestCase("public static partial class Inner { [IoOperation(0)] public static partial ValueTask<int> BadAsync(); }", Bad, TestName = "{m}(method of a nested type)")]
    public void MNS0001_an_operation_must_be_a_static_partial_method_without_a_body(string declaration, string at) =>
        AssertReported("MNS0001", declaration, at, "'BadAsync' must be declared 'static partial'");

    [TestCase("[IoOperation(0)] public static partial Task<int> BadAsync();", Bad, "returns 'System.Threading.Tasks.Task<int>'", TestName = "{m}(Task<int>)")]
    [TestCase("[IoOperation(0)] public static partial ValueTask<long> BadAsync();", Bad, "returns 'System.Threading.Tasks.ValueTask<long>'", TestName = "{m}(ValueTask<long>)")]
    public void MNS0002_an_operation_returns_ValueTask_of_int_or_ValueTask(string declaration, string at, string message) =>
        AssertReported("MNS0002", declaration, at, message);

    [TestCase("""[IoOperation(0)] public static partial ValueTask<int> BadAsync([Sqe("offset")] long offset);""", "offset", "'offset' is not a field of io_uring_sqe", TestName = "{m}(unknown parameter field)")]
    [TestCase("""[IoOperation(0), SqeValue("flagz", 1)] public static partial ValueTask<int> BadAsync();""", Bad, "'flagz' is not a field of io_uring_sqe", TestName = "{m}(unknown fixed-value field)")]
    public void MNS0003_an_SQE_field_must_exist(string declaration, string at, string message) =>
        AssertReported("MNS0003", declaration, at, message);

    [Test]
    public void MNS0004_a_parameter_needs_a_role() =>
        AssertReported("MNS0004", "[IoOperation(0)] public static partial ValueTask<int> BadAsync(int count);", "count", "Parameter 'count' has no role");

    [TestCase("[IoOperation(0)] public static partial ValueTask<int> BadAsync([Fd] int fd, [Fd] SafeHandle handle);", "handle", TestName = "{m}(two descriptors)")]
    [TestCase("[IoOperation(0)] public static partial ValueTask<int> BadAsync([Buffer] Memory<byte> first, [Buffer] ReadOnlyMemory<byte> second);", "second", TestName = "{m}(two buffers)")]
    [TestCase("[IoOperation(0)] public static partial ValueTask<int> BadAsync(CancellationToken first, CancellationToken second);", "second", TestName = "{m}(two tokens)")]
    public void MNS0005_a_role_is_given_at_most_once(string declaration, string at) =>
        AssertReported("MNS0005", declaration, at, "'BadAsync' has more than one");

    [TestCase("[IoOperation(0)] public static partial ValueTask<int> BadAsync([Path] byte[] path);", "path", "expected string", TestName = "{m}(path)")]
    [TestCase("[IoOperation(0)] public static partial ValueTask<int> BadAsync([Fd] long fd);", "fd", "expected int or a SafeHandle", TestName = "{m}(descriptor)")]
    [TestCase("[IoOperation(0)] public static partial ValueTask<int> BadAsync([Buffer] byte[] buffer);", "buffer", "expected Memory<byte> or ReadOnlyMemory<byte>", TestName = "{m}(buffer)")]
    [TestCase("[IoOperation(0)] public static partial ValueTask<int> BadAsync([Timespec] int timeout);", "timeout", "expected TimeSpan", TestName = "{m}(timespec)")]
    [TestCase("""[IoOperation(0)] public static partial ValueTask<int> BadAsync([Sqe("off")] double offset);""", "offset", "expected an integer, nint or pointer type", TestName = "{m}(SQE field)")]
    public void MNS0006_a_parameter_type_fits_its_role(string declaration, string at, string message) =>
        AssertReported("MNS0006", declaration, at, message);

    [TestCase("""[IoOperation(0, Syscall = "nosuch")] public static partial ValueTask<int> BadAsync([Fd] int fd);""", "Libc has no function 'nosuch'", TestName = "{m}(unknown function)")]
    [TestCase("""[IoOperation(0, Syscall = "close")] public static partial ValueTask<int> BadAsync([Fd] int fd, [Sqe("off")] long offset);""", "'close' takes 1 arguments but the operation supplies 2", TestName = "{m}(argument count)")]
    [TestCase("""[IoOperation(0, Syscall = "close")] public static partial ValueTask<int> BadAsync([Fd] int fd, [Timespec] TimeSpan timeout);""", "an operation with a [Timespec] parameter has no system call path", TestName = "{m}(timespec with a system call)")]
    public void MNS0007_the_system_call_fits_the_operation(string declaration, string message) =>
        AssertReported("MNS0007", declaration, Bad, message);

    [Test]
    public void MNS0008_a_readiness_path_needs_a_system_call() =>
        AssertReported("MNS0008", "[IoOperation(0, Readiness = ReadinessKind.Read)] public static partial ValueTask<int> BadAsync([Fd] int fd);", Bad,
            "'BadAsync' declares readiness Read but no Syscall");

    [TestCase("""[IoOperation(0)] public static partial ValueTask<int> BadAsync([Sqe("off")] long first, [Sqe("off")] long second);""", "second", "'off'", TestName = "{m}(same field twice)")]
    [TestCase("""[IoOperation(0)] public static partial ValueTask<int> BadAsync([Fd] int fd, [Sqe("fd")] int other);""", "other", "'fd'", TestName = "{m}(descriptor field)")]
    [TestCase("""[IoOperation(0)] public static partial ValueTask<int> BadAsync([Sqe("opcode")] byte opcode);""", "opcode", "'opcode'", TestName = "{m}(opcode)")]
    [TestCase("""[IoOperation(0), SqeValue("len", 1)] public static partial ValueTask<int> BadAsync([Sqe("len")] int length);""", Bad, "'len'", TestName = "{m}(fixed value over a parameter)")]
    public void MNS0009_an_SQE_field_is_set_once(string declaration, string at, string field) =>
        AssertReported("MNS0009", declaration, at, "'BadAsync' sets the SQE field " + field + " more than once");

    [TestCase("""[IoOperation(0, Readiness = ReadinessKind.Blocking, Syscall = "pread", Stream = ReadinessKind.Read)] public static partial ValueTask<int> BadAsync([Fd] int fd, [Buffer] Memory<byte> buffer, [Sqe("off")] long offset);""",
        "Stream needs a StreamSyscall", TestName = "{m}(no streaming function)")]
    [TestCase("""[IoOperation(0, Readiness = ReadinessKind.Read, Syscall = "recv", Stream = ReadinessKind.Read, StreamSyscall = "read")] public static partial ValueTask<int> BadAsync([Fd] int fd, [Buffer] Memory<byte> buffer, [Sqe("msg_flags")] int flags);""",
        "only a Readiness = ReadinessKind.Blocking operation may stream", TestName = "{m}(not a blocking operation)")]
    [TestCase("""[IoOperation(0, Readiness = ReadinessKind.Blocking, Syscall = "pread", Stream = ReadinessKind.Blocking, StreamSyscall = "read")] public static partial ValueTask<int> BadAsync([Fd] int fd, [Buffer] Memory<byte> buffer, [Sqe("off")] long offset);""",
        "Stream must be ReadinessKind.Read or ReadinessKind.Write", TestName = "{m}(no direction)")]
    [TestCase("""[IoOperation(0, Readiness = ReadinessKind.Blocking, Syscall = "pread", Stream = ReadinessKind.Read, StreamSyscall = "pwrite")] public static partial ValueTask<int> BadAsync([Fd] int fd, [Buffer] Memory<byte> buffer, [Sqe("off")] long offset);""",
        "'pwrite' must take fewer arguments than 'pread'", TestName = "{m}(an offset kept)")]
    [TestCase("""[IoOperation(0, Readiness = ReadinessKind.Blocking, Syscall = "pread", Stream = ReadinessKind.Read, StreamSyscall = "nosuch")] public static partial ValueTask<int> BadAsync([Fd] int fd, [Buffer] Memory<byte> buffer, [Sqe("off")] long offset);""",
        "Libc has no function 'nosuch'", TestName = "{m}(unknown streaming function)")]
    public void MNS0012_the_streaming_path_fits_the_operation(string declaration, string message) =>
        AssertReported("MNS0012", declaration, Bad, message);

    [TestCase("""[IoOperation(0, Readiness = ReadinessKind.Write, Syscall = "send"), ReadinessFlags("len", 64)] public static partial ValueTask<int> BadAsync([Fd] int fd, [Buffer] ReadOnlyMemory<byte> buffer, [Sqe("msg_flags")] int flags);""",
        "'len'", TestName = "{m}(a field set by a buffer)")]
    [TestCase("""[IoOperation(0, Readiness = ReadinessKind.Write, Syscall = "send"), ReadinessFlags("msg_flags", 64), ReadinessFlags("msg_flags", 16384)] public static partial ValueTask<int> BadAsync([Fd] int fd, [Buffer] ReadOnlyMemory<byte> buffer, [Sqe("msg_flags")] int flags);""",
        "'msg_flags'", TestName = "{m}(the same field twice)")]
    [TestCase("""[IoOperation(0, Readiness = ReadinessKind.Blocking, Syscall = "pread"), ReadinessFlags("buf_index", 1)] public static partial ValueTask<int> BadAsync([Fd] int fd, [Sqe("addr")] nint address, [Sqe("len")] int length, [Sqe("off")] long offset, [Sqe("buf_index"), SqeOnly] ushort index);""",
        "'buf_index'", TestName = "{m}(an SQE-only field)")]
    public void MNS0013_readiness_flags_go_to_a_field_the_system_call_gets(string declaration, string field) =>
        AssertReported("MNS0013", declaration, Bad, "'BadAsync' adds readiness flags to " + field);

    [TestCase("[IoOperation(0)] internal static unsafe partial void BadAsync(io_uring_sqe* sqe, [Buffer] Memory<byte> buffer);", "buffer", TestName = "{m}(a buffer)")]
    [TestCase("[IoOperation(0)] internal static unsafe partial void BadAsync(io_uring_sqe* sqe, [Fd] SafeHandle handle);", "handle", TestName = "{m}(a SafeHandle)")]
    [TestCase("[IoOperation(0)] internal static unsafe partial void BadAsync(io_uring_sqe* sqe, [Path] string path);", "path", TestName = "{m}(a path)")]
    [TestCase("[IoOperation(0)] internal static unsafe partial void BadAsync(io_uring_sqe* sqe, CancellationToken cancellationToken);", "cancellationToken", TestName = "{m}(a token)")]
    public void MNS0014_a_prepare_only_operation_takes_descriptors_and_SQE_fields_only(string declaration, string at) =>
        AssertReported("MNS0014", declaration, at, "'BadAsync' is prepare-only");

    [Test]
    public void A_void_method_without_an_SQE_first_is_no_prepare_only_operation() =>
        AssertReported("MNS0002", "[IoOperation(0)] internal static partial void BadAsync([Fd] int fd);", Bad, "or void with an io_uring_sqe* first parameter");

    [Test]
    public void Every_descriptor_is_an_error_with_an_id_in_the_release_notes()
    {
        string releases = Repository.Read("generator/Miniss.Generators/AnalyzerReleases.Unshipped.md");
        for (int n = 1; n <= 14; n++)
        {
            DiagnosticDescriptor descriptor = Diagnostics.ById($"MNS{n:0000}");
            Assert.That(descriptor.DefaultSeverity, Is.EqualTo(DiagnosticSeverity.Error), descriptor.Id);
            Assert.That(releases, Does.Contain(descriptor.Id + " | " + descriptor.Category + " | Error | " + descriptor.Title), descriptor.Id);
        }
    }

    /// <summary>
    /// Runs the generator over a catalog holding a correct operation, <c>GoodAsync</c>, and <paramref name="declaration"/>;
    /// asserts one <paramref name="id"/> error at the identifier <paramref name="at"/> of <c>BadAsync</c> (the method or
    /// one of its parameters), no source for <c>BadAsync</c>, and <c>GoodAsync</c> still generated.
    /// </summary>
    private static void AssertReported(string id, string declaration, string at, string message)
    {
        string catalog = $$"""
            using System;
            using System.Runtime.InteropServices;
            using System.Threading;
            using System.Threading.Tasks;
            using Miniss.Bindings.Linux;
            using Miniss.IO.Catalog;

            namespace Checks;

            public partial class Ops
            {
                [IoOperation(0, Name = "nop")]
                public static partial ValueTask<int> GoodAsync(CancellationToken cancellationToken = default);

                {{declaration}}
            }
            """;
        Compilation compilation = CatalogCompilation.OfCatalog(catalog);
        GeneratorRun run = GeneratorRun.Of(compilation);

        Assert.That(run.Result.Exception, Is.Null, "the generator threw");
        Assert.That(run.Result.Diagnostics, Has.Length.EqualTo(1), () => string.Join("\n", run.Result.Diagnostics));
        Diagnostic diagnostic = run.Result.Diagnostics[0];
        FileLinePositionSpan where = diagnostic.Location.GetLineSpan();
        Assert.Multiple(() =>
        {
            Assert.That(diagnostic.Id, Is.EqualTo(id));
            Assert.That(diagnostic.Severity, Is.EqualTo(DiagnosticSeverity.Error));
            Assert.That(diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), Does.Contain(message));
            Assert.That(where.Path, Is.EqualTo("Catalog.cs"));
            Assert.That(diagnostic.Location.SourceSpan, Is.EqualTo(IdentifierSpan(compilation, at)), $"reported at '{Text(catalog, diagnostic.Location.SourceSpan)}', line {where.StartLinePosition.Line + 1}");
            Assert.That(run.Sources.Keys, Has.None.EndsWith("." + Bad + ".g.cs"));
            Assert.That(run.Sources.Keys, Is.EquivalentTo(new[] { "Checks.Ops.GoodAsync.g.cs", "Checks.Ops.g.cs" }));
        });
    }

    /// <summary>The span of <c>BadAsync</c>'s name, or of its parameter <paramref name="name"/>.</summary>
    private static TextSpan IdentifierSpan(Compilation compilation, string name)
    {
        MethodDeclarationSyntax method = compilation.SyntaxTrees.Single(t => t.FilePath == "Catalog.cs").GetRoot()
            .DescendantNodes().OfType<MethodDeclarationSyntax>().Single(m => m.Identifier.Text == Bad);
        return name == Bad ? method.Identifier.Span : method.ParameterList.Parameters.Single(p => p.Identifier.Text == name).Identifier.Span;
    }

    private static string Text(string source, TextSpan span) => span.End <= source.Length ? source.Substring(span.Start, span.Length) : "(outside the file)";
}
