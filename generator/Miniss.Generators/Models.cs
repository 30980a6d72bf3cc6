using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Miniss.Generators;

/// <summary>What a parameter of an operation is for.</summary>
internal enum ParameterRole
{
    FdInt,
    FdHandle,
    Buffer,
    Path,
    Timespec,
    Sqe,
    CancellationToken,
}

/// <summary>One parameter as the emitter needs it: no symbols, only text, so the model is equatable.</summary>
internal sealed record ParameterModel(
    string Name,
    string Type,
    ParameterRole Role,
    string? SqeField,
    string? SqeFieldType,
    bool ForSyscall,
    string? DefaultValue);

/// <summary>A fixed SQE field value of an operation, or flags a readiness backend adds to one: its C# text names the
/// constants the declaration names (<c>global::Miniss.Bindings.Linux.IoUring.IORING_FSYNC_DATASYNC</c>).</summary>
internal sealed record FixedValue(string Field, string FieldType, string ValueText);

/// <summary>One declared operation, ready to emit. Every constant is kept as the C# text that names it.</summary>
internal sealed record OperationModel(
    string Namespace,
    string TypeName,
    string TypeKeyword,
    string MethodName,
    string Modifiers,
    bool ReturnsValue,
    string? SqeParameter,
    int Opcode,
    string OpcodeText,
    string OpcodeName,
    string Name,
    string DomainText,
    string ReadinessText,
    string EffectsText,
    string StreamText,
    string? ExpectedErrnoText,
    string? Syscall,
    EquatableArray<string> SyscallParameterTypes,
    string? StreamSyscall,
    EquatableArray<string> StreamSyscallParameterTypes,
    EquatableArray<ParameterModel> Parameters,
    EquatableArray<FixedValue> FixedValues,
    EquatableArray<FixedValue> ReadinessFlags)
{
    /// <summary>A prepare-only operation: generated as the function that fills in a given SQE.</summary>
    public bool PrepareOnly => SqeParameter is not null;
}

/// <summary>An opcode a catalog type uses: its value, the C# text naming it, and its name without <c>IORING_OP_</c>.</summary>
internal sealed record OpcodeModel(int Value, string Text, string Name);

/// <summary>The opcodes one catalog type uses, for the list a backend checks the kernel against.</summary>
internal sealed record OpcodeListModel(string Namespace, string TypeName, string TypeKeyword, EquatableArray<OpcodeModel> Opcodes);

/// <summary>A location without a syntax tree reference, so diagnostics can travel through the pipeline.</summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

    public static LocationInfo? From(Location? location) =>
        location?.SourceTree is null ? null : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
}

/// <summary>A diagnostic as data: its descriptor's id, where, and the message arguments.</summary>
internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public Diagnostic ToDiagnostic() =>
        Diagnostic.Create(Diagnostics.ById(Id), Location?.ToLocation() ?? Microsoft.CodeAnalysis.Location.None, [.. Arguments]);
}

/// <summary>What parsing one declaration yields: an operation to emit, or why not.</summary>
internal sealed record ParseResult(OperationModel? Operation, EquatableArray<DiagnosticInfo> Diagnostics);
