using System.Linq;
using Microsoft.CodeAnalysis;

namespace Miniss.Generators;

/// <summary>The diagnostics of a wrong operation declaration. Each names what to change.</summary>
internal static class Diagnostics
{
    private const string Category = "Miniss.IoOperations";

    public static readonly DiagnosticDescriptor NotStaticPartial = new(
        "MNS0001", "An I/O operation must be a static partial method without a body",
        "'{0}' must be declared 'static partial' without a body, not generic, in a non-generic, non-nested partial class or struct, for Miniss to write it",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor WrongReturnType = new(
        "MNS0002", "An I/O operation returns ValueTask<int> or ValueTask",
        "'{0}' returns '{1}'; an I/O operation returns ValueTask<int> (its result) or ValueTask, or void with an io_uring_sqe* first parameter (prepare-only)",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnknownSqeField = new(
        "MNS0003", "Unknown SQE field",
        "'{0}' is not a field of io_uring_sqe (parameter or value '{1}')",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnmappedParameter = new(
        "MNS0004", "Parameter without a role",
        "Parameter '{0}' has no role: mark it [Fd], [Buffer], [Path], [Timespec] or [Sqe(\"field\")] (a CancellationToken needs none)",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor DuplicateRole = new(
        "MNS0005", "Role given twice",
        "'{0}' has more than one {1} parameter; an operation has at most one",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor WrongParameterType = new(
        "MNS0006", "Parameter type does not fit its role",
        "Parameter '{0}' is {1} but has type '{2}'; expected {3}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor BadSyscall = new(
        "MNS0007", "The readiness path's system call does not fit",
        "'{0}': {1}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor ReadinessWithoutSyscall = new(
        "MNS0008", "Readiness path without a system call",
        "'{0}' declares readiness {1} but no Syscall for the readiness backends to call",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor FieldSetTwice = new(
        "MNS0009", "SQE field set twice",
        "'{0}' sets the SQE field '{1}' more than once",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor DuplicateOperation = new(
        "MNS0010", "Operation names are unique in their type",
        "'{0}' is declared more than once in '{1}'; give each operation its own name (operations cannot be overloaded)",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor OpcodeOutOfRange = new(
        "MNS0011", "Opcode out of range",
        "'{0}' has opcode {1}; an io_uring opcode is between 0 and 255",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor BadStream = new(
        "MNS0012", "The streaming path does not fit",
        "'{0}': {1}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor BadReadinessFlags = new(
        "MNS0013", "Readiness flags for a field the system call does not get",
        "'{0}' adds readiness flags to '{1}', which is not an [Sqe] parameter passed to its Syscall, or gets flags twice; name the field of such a parameter once",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor BadPrepareOnly = new(
        "MNS0014", "A prepare-only operation takes descriptors and SQE fields only",
        "'{0}' is prepare-only (void, io_uring_sqe* first), so parameter '{1}' must be an [Fd] int or an [Sqe(\"field\")]: nothing holds memory or handles for it until its completion",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor[] s_all =
        [NotStaticPartial, WrongReturnType, UnknownSqeField, UnmappedParameter, DuplicateRole, WrongParameterType, BadSyscall, ReadinessWithoutSyscall,
         FieldSetTwice, DuplicateOperation, OpcodeOutOfRange, BadStream, BadReadinessFlags, BadPrepareOnly];

    public static DiagnosticDescriptor ById(string id) => s_all.First(d => d.Id == id);
}
