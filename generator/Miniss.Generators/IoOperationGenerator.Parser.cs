using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Miniss.Generators;

public sealed partial class IoOperationGenerator
{
    /// <summary>Reads one [IoOperation] declaration into a model (no symbols kept) and the diagnostics it earns.</summary>
    internal static class Parser
    {
        private const string CatalogNamespace = "Miniss.IO.Catalog.";
        private const string SqeType = "Miniss.Bindings.Linux.io_uring_sqe";
        private const string LibcType = "Miniss.Bindings.Linux.Libc";
        private const string OpcodePrefix = "IORING_OP_";
        private static readonly string[] s_roleAttributes = ["FdAttribute", "BufferAttribute", "PathAttribute", "TimespecAttribute", "SqeAttribute"];
        private static readonly SymbolDisplayFormat s_fullyQualified = SymbolDisplayFormat.FullyQualifiedFormat
            .WithMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.UseSpecialTypes | SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

        public static ParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            var method = (IMethodSymbol)context.TargetSymbol;
            var syntax = (MethodDeclarationSyntax)context.TargetNode;
            var diagnostics = new List<DiagnosticInfo>();
            Compilation compilation = context.SemanticModel.Compilation;
            LocationInfo? where = LocationInfo.From(syntax.Identifier.GetLocation());

            void Report(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] arguments) =>
                diagnostics.Add(new DiagnosticInfo(descriptor.Id, location ?? where, EquatableArray.From(arguments)));

            INamedTypeSymbol type = method.ContainingType;
            bool typeIsPartial = type.DeclaringSyntaxReferences.All(r =>
                r.GetSyntax(cancellationToken) is TypeDeclarationSyntax t && t.Modifiers.Any(m => m.Text == "partial"));
            if (!method.IsStatic || !method.IsPartialDefinition || !typeIsPartial || method.IsGenericMethod || type.IsGenericType
                || type.TypeKind is not (TypeKind.Class or TypeKind.Struct)
                || syntax.Body is not null || syntax.ExpressionBody is not null || type.ContainingType is not null)
            {
                Report(Diagnostics.NotStaticPartial, null, method.Name);
                return Result(null, diagnostics);
            }

            string returnType = method.ReturnType.ToDisplayString(s_fullyQualified);
            bool returnsValue = returnType == "global::System.Threading.Tasks.ValueTask<int>";
            bool prepareOnly = method.ReturnsVoid && method.Parameters.Length > 0
                && method.Parameters[0].Type is IPointerTypeSymbol { PointedAtType: var pointedAt } && pointedAt.ToDisplayString() == SqeType;
            if (!returnsValue && !prepareOnly && returnType != "global::System.Threading.Tasks.ValueTask")
            {
                Report(Diagnostics.WrongReturnType, null, method.Name, method.ReturnType.ToDisplayString());
                return Result(null, diagnostics);
            }

            int declarations = type.GetMembers(method.Name).Count(m => m.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == IoOperationGenerator.AttributeName));
            if (declarations > 1)
            {
                Report(Diagnostics.DuplicateOperation, null, method.Name, type.Name);
                return Result(null, diagnostics);
            }

            AttributeData attribute = context.Attributes[0];
            int opcode = attribute.ConstructorArguments.Length > 0 && attribute.ConstructorArguments[0].Value is int op ? op : 0;
            if (opcode is < 0 or > 255)
            {
                Report(Diagnostics.OpcodeOutOfRange, null, method.Name, opcode.ToString(System.Globalization.CultureInfo.InvariantCulture));
                return Result(null, diagnostics);
            }

            SemanticModel semantics = context.SemanticModel;
            string name = Named(attribute, "Name") as string is { Length: > 0 } given ? given : method.Name;
            int domain = Named(attribute, "Domain") as int? ?? 0;
            int readiness = Named(attribute, "Readiness") as int? ?? 0;
            int effects = Named(attribute, "Effects") as int? ?? 0;
            int stream = Named(attribute, "Stream") as int? ?? 0;
            int expectedErrno = Named(attribute, "ExpectedErrno") as int? ?? 0;
            string? syscall = Named(attribute, "Syscall") as string is { Length: > 0 } named ? named : null;
            string? streamSyscall = Named(attribute, "StreamSyscall") as string is { Length: > 0 } streamNamed ? streamNamed : null;
            string opcodeText = ArgumentText(attribute, 0, null, semantics, cancellationToken) ?? opcode.ToString(System.Globalization.CultureInfo.InvariantCulture);
            string opcodeName = ConstantName(attribute, semantics, cancellationToken) is { } constant && constant.StartsWith(OpcodePrefix, System.StringComparison.Ordinal)
                ? constant.Substring(OpcodePrefix.Length)
                : opcode.ToString(System.Globalization.CultureInfo.InvariantCulture);
            string? expectedErrnoText = expectedErrno == 0 ? null
                : ArgumentText(attribute, -1, "ExpectedErrno", semantics, cancellationToken) ?? expectedErrno.ToString(System.Globalization.CultureInfo.InvariantCulture);

            Dictionary<string, string> sqeFields = SqeFields(compilation);

            // A prepare-only operation is given its SQE and may set user_data (the runtime routes its completion).
            var usedFields = prepareOnly ? new HashSet<string> { "opcode" } : new HashSet<string> { "opcode", "user_data" };
            var roles = new HashSet<ParameterRole>();
            var parameters = new List<ParameterModel>();
            foreach (IParameterSymbol parameter in method.Parameters.Skip(prepareOnly ? 1 : 0))
            {
                cancellationToken.ThrowIfCancellationRequested();
                LocationInfo? at = LocationInfo.From(parameter.Locations.FirstOrDefault());
                string parameterType = parameter.Type.ToDisplayString(s_fullyQualified);
                string? defaultValue = parameter.HasExplicitDefaultValue ? "default" : null;
                ImmutableArray<AttributeData> attributes = parameter.GetAttributes();
                AttributeData? sqe = Find(attributes, "SqeAttribute");
                bool sqeOnly = Find(attributes, "SqeOnlyAttribute") is not null;
                if (parameter.RefKind != RefKind.None)
                {
                    Report(Diagnostics.WrongParameterType, at, parameter.Name, parameter.RefKind.ToString().ToLowerInvariant(), parameter.Type.ToDisplayString(), "a parameter passed by value");
                    continue;
                }

                int roleAttributes = s_roleAttributes.Count(n => Find(attributes, n) is not null);
                if (roleAttributes > 1)
                {
                    Report(Diagnostics.DuplicateRole, at, method.Name, "role on one");
                    continue;
                }

                if (prepareOnly && !(sqe is not null || (Find(attributes, "FdAttribute") is not null && parameterType == "int")))
                {
                    Report(Diagnostics.BadPrepareOnly, at, method.Name, parameter.Name);
                    continue;
                }

                ParameterRole? role =
                    Find(attributes, "FdAttribute") is not null ? (parameterType == "int" ? ParameterRole.FdInt : ParameterRole.FdHandle)
                    : Find(attributes, "BufferAttribute") is not null ? ParameterRole.Buffer
                    : Find(attributes, "PathAttribute") is not null ? ParameterRole.Path
                    : Find(attributes, "TimespecAttribute") is not null ? ParameterRole.Timespec
                    : sqe is not null ? ParameterRole.Sqe
                    : parameterType == "global::System.Threading.CancellationToken" ? ParameterRole.CancellationToken
                    : null;
                if (role is null)
                {
                    Report(Diagnostics.UnmappedParameter, at, parameter.Name);
                    continue;
                }

                if (role != ParameterRole.Sqe && !roles.Add(role == ParameterRole.FdInt ? ParameterRole.FdHandle : role.Value))
                {
                    Report(Diagnostics.DuplicateRole, at, method.Name, role.Value.ToString());
                    continue;
                }

                string? expected = role switch
                {
                    ParameterRole.FdHandle when !InheritsFrom(parameter.Type, "System.Runtime.InteropServices.SafeHandle") => "int or a SafeHandle",
                    ParameterRole.Buffer when parameterType is not ("global::System.Memory<byte>" or "global::System.ReadOnlyMemory<byte>") => "Memory<byte> or ReadOnlyMemory<byte>",
                    ParameterRole.Path when parameterType != "string" => "string",
                    ParameterRole.Timespec when parameterType != "global::System.TimeSpan" => "TimeSpan",
                    ParameterRole.Sqe when !IsIntegral(parameter.Type) => "an integer, nint or pointer type",
                    _ => null,
                };
                if (expected is not null)
                {
                    Report(Diagnostics.WrongParameterType, at, parameter.Name, role.Value.ToString(), parameter.Type.ToDisplayString(), expected);
                    continue;
                }

                string? field = null;
                string? fieldType = null;
                IEnumerable<string> claimed = role switch
                {
                    ParameterRole.FdInt or ParameterRole.FdHandle => ["fd"],
                    ParameterRole.Buffer => ["addr", "len"],
                    ParameterRole.Path or ParameterRole.Timespec => ["addr"],
                    _ => [],
                };
                if (sqe is not null)
                {
                    field = sqe.ConstructorArguments.Length > 0 ? sqe.ConstructorArguments[0].Value as string : null;
                    if (field is null || !sqeFields.TryGetValue(field, out fieldType))
                    {
                        Report(Diagnostics.UnknownSqeField, at, field ?? string.Empty, parameter.Name);
                        continue;
                    }

                    claimed = [field];
                }

                foreach (string claim in claimed)
                {
                    if (!usedFields.Add(claim))
                    {
                        Report(Diagnostics.FieldSetTwice, at, method.Name, claim);
                    }
                }

                bool forSyscall = role is not (ParameterRole.CancellationToken or ParameterRole.Timespec) && !sqeOnly && field != "user_data";
                parameters.Add(new ParameterModel(parameter.Name, parameterType, role.Value, field, fieldType, forSyscall, defaultValue));
            }

            var fixedValues = new List<FixedValue>();
            foreach (AttributeData value in method.GetAttributes().Where(a => a.AttributeClass?.ToDisplayString() == CatalogNamespace + "SqeValueAttribute"))
            {
                string? field = value.ConstructorArguments.Length > 0 ? value.ConstructorArguments[0].Value as string : null;
                string number = ArgumentText(value, 1, null, semantics, cancellationToken) ?? NumberText(value);
                if (field is null || !sqeFields.TryGetValue(field, out string? fieldType))
                {
                    Report(Diagnostics.UnknownSqeField, null, field ?? string.Empty, "SqeValue");
                    continue;
                }

                if (!usedFields.Add(field))
                {
                    Report(Diagnostics.FieldSetTwice, null, method.Name, field);
                    continue;
                }

                fixedValues.Add(new FixedValue(field, fieldType, number));
            }

            var readinessFlags = new List<FixedValue>();
            foreach (AttributeData flags in method.GetAttributes().Where(a => a.AttributeClass?.ToDisplayString() == CatalogNamespace + "ReadinessFlagsAttribute"))
            {
                string? field = flags.ConstructorArguments.Length > 0 ? flags.ConstructorArguments[0].Value as string : null;
                ParameterModel? target = parameters.FirstOrDefault(p => p.Role == ParameterRole.Sqe && p.ForSyscall && p.SqeField == field);
                if (target is null || readinessFlags.Any(f => f.Field == field))
                {
                    Report(Diagnostics.BadReadinessFlags, null, method.Name, field ?? string.Empty);
                    continue;
                }

                readinessFlags.Add(new FixedValue(field!, target.SqeFieldType!, ArgumentText(flags, 1, null, semantics, cancellationToken) ?? NumberText(flags)));
            }

            var syscallTypes = new List<string>();
            var streamTypes = new List<string>();
            if (readiness is ReadinessRead or ReadinessWrite or ReadinessBlocking or ReadinessInline && string.IsNullOrEmpty(syscall))
            {
                Report(Diagnostics.ReadinessWithoutSyscall, null, method.Name, ReadinessName(readiness));
            }
            else if (!string.IsNullOrEmpty(syscall))
            {
                IMethodSymbol? target = compilation.GetTypeByMetadataName(LibcType)?.GetMembers(syscall!).OfType<IMethodSymbol>().FirstOrDefault();
                int expectedArguments = parameters.Where(p => p.ForSyscall).Sum(p => p.Role == ParameterRole.Buffer ? 2 : 1);
                if (target is null)
                {
                    Report(Diagnostics.BadSyscall, null, method.Name, $"Libc has no function '{syscall}'");
                }
                else if (target.Parameters.Length != expectedArguments)
                {
                    Report(Diagnostics.BadSyscall, null, method.Name,
                        $"'{syscall}' takes {target.Parameters.Length} arguments but the operation supplies {expectedArguments} (a buffer counts as pointer and length; mark SQE-only parameters [SqeOnly])");
                }
                else if (parameters.Any(p => p.Role == ParameterRole.Timespec))
                {
                    Report(Diagnostics.BadSyscall, null, method.Name, "an operation with a [Timespec] parameter has no system call path");
                }
                else
                {
                    syscallTypes.AddRange(target.Parameters.Select(p => p.Type.ToDisplayString(s_fullyQualified)));
                }
            }

            if (stream != 0 || streamSyscall is not null)
            {
                IMethodSymbol? target = streamSyscall is null ? null
                    : compilation.GetTypeByMetadataName(LibcType)?.GetMembers(streamSyscall).OfType<IMethodSymbol>().FirstOrDefault();
                string? problem =
                    stream is not (ReadinessRead or ReadinessWrite) ? "Stream must be ReadinessKind.Read or ReadinessKind.Write, with a StreamSyscall"
                    : readiness != ReadinessBlocking ? "only a Readiness = ReadinessKind.Blocking operation may stream"
                    : streamSyscall is null ? "Stream needs a StreamSyscall, the libc function that reads or writes without an offset"
                    : target is null ? $"Libc has no function '{streamSyscall}'"
                    : syscallTypes.Count == 0 ? "a streaming operation needs a Syscall too"
                    : target.Parameters.Length >= syscallTypes.Count ? $"'{streamSyscall}' must take fewer arguments than '{syscall}' (its leading ones, without the offset)"
                    : null;
                if (problem is not null)
                {
                    Report(Diagnostics.BadStream, null, method.Name, problem);
                }
                else
                {
                    streamTypes.AddRange(target!.Parameters.Select(p => p.Type.ToDisplayString(s_fullyQualified)));
                }
            }

            if (diagnostics.Count > 0)
            {
                return Result(null, diagnostics);
            }

            string ns = type.ContainingNamespace.IsGlobalNamespace ? string.Empty : type.ContainingNamespace.ToDisplayString();
            string keyword = (type.IsRecord, type.TypeKind) switch
            {
                (true, TypeKind.Struct) => "record struct",
                (true, _) => "record",
                (false, TypeKind.Struct) => "struct",
                _ => "class",
            };
            string modifiers = string.Join(" ", syntax.Modifiers.Select(m => m.Text));
            var model = new OperationModel(ns, type.Name, keyword, method.Name, modifiers, returnsValue,
                prepareOnly ? method.Parameters[0].Name : null, opcode, opcodeText, opcodeName, name,
                EnumText(compilation, "IoDomain", domain), EnumText(compilation, "ReadinessKind", readiness), EnumText(compilation, "ReadinessEffects", effects),
                EnumText(compilation, "ReadinessKind", stream), expectedErrnoText,
                syscall, EquatableArray.From(syscallTypes), streamTypes.Count > 0 ? streamSyscall : null, EquatableArray.From(streamTypes),
                EquatableArray.From(parameters), EquatableArray.From(fixedValues), EquatableArray.From(readinessFlags));
            return Result(model, diagnostics);
        }

        private static ParseResult Result(OperationModel? model, List<DiagnosticInfo> diagnostics) => new(model, EquatableArray.From(diagnostics));

        private static object? Named(AttributeData attribute, string name)
        {
            foreach (KeyValuePair<string, TypedConstant> argument in attribute.NamedArguments)
            {
                if (argument.Key == name)
                {
                    return argument.Value.Value;
                }
            }

            return null;
        }

        private static AttributeData? Find(ImmutableArray<AttributeData> attributes, string name) =>
            attributes.FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == CatalogNamespace + name);

        private static bool InheritsFrom(ITypeSymbol type, string baseName)
        {
            for (ITypeSymbol? current = type; current is not null; current = current.BaseType)
            {
                if (current.ToDisplayString() == baseName)
                {
                    return true;
                }
            }

            return false;
        }

        private static bool IsIntegral(ITypeSymbol type) => type.TypeKind == TypeKind.Pointer || type.SpecialType is
            SpecialType.System_Byte or SpecialType.System_SByte or SpecialType.System_Int16 or SpecialType.System_UInt16 or
            SpecialType.System_Int32 or SpecialType.System_UInt32 or SpecialType.System_Int64 or SpecialType.System_UInt64 or
            SpecialType.System_IntPtr or SpecialType.System_UIntPtr;

        /// <summary>The fields of the generated io_uring_sqe and their C# types, read from the compilation.</summary>
        private static Dictionary<string, string> SqeFields(Compilation compilation)
        {
            var fields = new Dictionary<string, string>();
            INamedTypeSymbol? sqe = compilation.GetTypeByMetadataName(SqeType);
            if (sqe is null)
            {
                return fields;
            }

            foreach (IFieldSymbol field in sqe.GetMembers().OfType<IFieldSymbol>())
            {
                if (!field.IsStatic && field.DeclaredAccessibility == Accessibility.Public && IsIntegral(field.Type))
                {
                    fields[field.Name] = field.Type.ToDisplayString(s_fullyQualified);
                }
            }

            return fields;
        }

        internal static string ReadinessName(int readiness) => readiness switch
        {
            ReadinessRead => "Read",
            ReadinessWrite => "Write",
            ReadinessBlocking => "Blocking",
            ReadinessInline => "Inline",
            0 => "None",
            _ => readiness.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };

        // The values of Miniss.IO.Catalog.ReadinessKind the parser checks.
        private const int ReadinessRead = 1;
        private const int ReadinessWrite = 2;
        private const int ReadinessBlocking = 3;
        private const int ReadinessInline = 4;

        /// <summary>The C# text of an attribute argument (the positional one at <paramref name="position"/>, or the
        /// one named <paramref name="name"/>) that names its constants, or null when it cannot be written so.</summary>
        private static string? ArgumentText(AttributeData attribute, int position, string? name, SemanticModel semantics, CancellationToken cancellationToken)
        {
            if (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is not AttributeSyntax { ArgumentList: { } list }
                || list.SyntaxTree != semantics.SyntaxTree)
            {
                return null;
            }

            int index = 0;
            foreach (AttributeArgumentSyntax argument in list.Arguments)
            {
                if (argument.NameEquals is { } equals)
                {
                    if (name is not null && equals.Name.Identifier.Text == name)
                    {
                        return ConstantText(argument.Expression, semantics, cancellationToken);
                    }

                    continue;
                }

                if (name is null && index == position)
                {
                    return ConstantText(argument.Expression, semantics, cancellationToken);
                }

                index++;
            }

            return null;
        }

        /// <summary>The name of the constant the attribute's first argument is (<c>IORING_OP_READ</c>), if it is one.</summary>
        private static string? ConstantName(AttributeData attribute, SemanticModel semantics, CancellationToken cancellationToken)
        {
            if (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is not AttributeSyntax { ArgumentList: { Arguments.Count: > 0 } list } syntax
                || syntax.SyntaxTree != semantics.SyntaxTree || list.Arguments[0].NameEquals is not null)
            {
                return null;
            }

            return semantics.GetSymbolInfo(list.Arguments[0].Expression, cancellationToken).Symbol is IFieldSymbol { IsConst: true } field ? field.Name : null;
        }

        /// <summary>A constant expression as C# that names each constant fully (<c>global::Miniss.Bindings.Linux.Sockets.MSG_DONTWAIT</c>),
        /// or null for a form it does not know.</summary>
        private static string? ConstantText(ExpressionSyntax expression, SemanticModel semantics, CancellationToken cancellationToken)
        {
            switch (expression)
            {
                case LiteralExpressionSyntax literal:
                    return literal.Token.Text;
                case ParenthesizedExpressionSyntax parenthesized:
                    return ConstantText(parenthesized.Expression, semantics, cancellationToken) is { } inner ? "(" + inner + ")" : null;
                case PrefixUnaryExpressionSyntax unary:
                    return ConstantText(unary.Operand, semantics, cancellationToken) is { } operand ? unary.OperatorToken.Text + operand : null;
                case BinaryExpressionSyntax binary:
                    return ConstantText(binary.Left, semantics, cancellationToken) is { } left && ConstantText(binary.Right, semantics, cancellationToken) is { } right
                        ? left + " " + binary.OperatorToken.Text + " " + right
                        : null;
                case CastExpressionSyntax cast:
                    return semantics.GetTypeInfo(cast.Type, cancellationToken).Type is { } castType && ConstantText(cast.Expression, semantics, cancellationToken) is { } operandText
                        ? "(" + castType.ToDisplayString(s_fullyQualified) + ")" + operandText
                        : null;
                case IdentifierNameSyntax or MemberAccessExpressionSyntax:
                    return semantics.GetSymbolInfo(expression, cancellationToken).Symbol is IFieldSymbol { IsConst: true } field
                        ? field.ContainingType.ToDisplayString(s_fullyQualified) + "." + field.Name
                        : null;
                default:
                    return null;
            }
        }

        private static string NumberText(AttributeData attribute) =>
            attribute.ConstructorArguments.Length > 1 && attribute.ConstructorArguments[1].Value is { } value
                ? System.Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture).ToString(System.Globalization.CultureInfo.InvariantCulture) + "L"
                : "0L";

        /// <summary>A value of one of the catalog's enums as C#: its member, members joined by <c>|</c> for flags, or a cast.</summary>
        private static string EnumText(Compilation compilation, string enumName, int value)
        {
            string fullName = "global::" + CatalogNamespace + enumName;
            INamedTypeSymbol? type = compilation.GetTypeByMetadataName(CatalogNamespace + enumName);
            if (type is null)
            {
                return "(" + fullName + ")" + value.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            var members = type.GetMembers().OfType<IFieldSymbol>().Where(f => f.HasConstantValue).ToList();
            if (members.FirstOrDefault(f => System.Convert.ToInt32(f.ConstantValue, System.Globalization.CultureInfo.InvariantCulture) == value) is { } exact)
            {
                return fullName + "." + exact.Name;
            }

            var parts = new List<string>();
            int rest = value;
            foreach (IFieldSymbol member in members)
            {
                int bits = System.Convert.ToInt32(member.ConstantValue, System.Globalization.CultureInfo.InvariantCulture);
                if (bits != 0 && (bits & (bits - 1)) == 0 && (rest & bits) != 0)
                {
                    parts.Add(fullName + "." + member.Name);
                    rest &= ~bits;
                }
            }

            return rest == 0 && parts.Count > 0
                ? string.Join(" | ", parts)
                : "(" + fullName + ")" + value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
