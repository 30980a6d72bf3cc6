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

/// <summary>A fixed SQE field value of an operation.</summary>
internal sealed record FixedValue(string Field, string FieldType, long Value);

/// <summary>One declared operation, ready to emit.</summary>
internal sealed record OperationModel(
    string Namespace,
    string TypeName,
    string TypeKeyword,
    string MethodName,
    string Modifiers,
    bool ReturnsValue,
    int Opcode,
    string Name,
    int ResultKind,
    int Domain,
    int Readiness,
    int ExpectedErrno,
    string? Syscall,
    EquatableArray<string> SyscallParameterTypes,
    string? SyscallReturnType,
    EquatableArray<ParameterModel> Parameters,
    EquatableArray<FixedValue> FixedValues);

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
