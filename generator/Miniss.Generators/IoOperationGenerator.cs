using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Miniss.Generators;

/// <summary>
/// Writes each I/O operation declared with <c>[IoOperation]</c> in Miniss's operation catalog: the body of the
/// public <c>ValueTask</c> method (SQE preparation, what is held until the completion, cancellation) and the path a
/// readiness backend takes (the system call it makes, and when). One generated file per operation, so an edit to one
/// declaration regenerates only that operation.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class IoOperationGenerator : IIncrementalGenerator
{
    internal const string AttributeName = "Miniss.IO.Catalog.IoOperationAttribute";

    /// <summary>Step names, for incrementality tests.</summary>
    internal static class Steps
    {
        public const string Operations = nameof(Operations);
        public const string Models = nameof(Models);
        public const string Opcodes = nameof(Opcodes);
    }

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<ParseResult> parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                AttributeName,
                static (node, _) => node is MethodDeclarationSyntax,
                static (syntax, cancellationToken) => Parser.Parse(syntax, cancellationToken))
            .WithTrackingName(Steps.Operations);

        context.RegisterSourceOutput(parsed, static (output, result) =>
        {
            foreach (DiagnosticInfo diagnostic in result.Diagnostics)
            {
                output.ReportDiagnostic(diagnostic.ToDiagnostic());
            }
        });

        IncrementalValuesProvider<OperationModel> models = parsed
            .Where(static result => result.Operation is not null)
            .Select(static (result, _) => result.Operation!)
            .WithTrackingName(Steps.Models);

        context.RegisterSourceOutput(models, static (output, model) =>
            output.AddSource($"{(model.Namespace.Length > 0 ? model.Namespace + "." : string.Empty)}{model.TypeName}.{model.MethodName}.g.cs", Emitter.Emit(model)));

        // The opcodes each catalog type uses, for the backend to check the kernel against: one list per type, which
        // changes only when an opcode is added or removed.
        IncrementalValuesProvider<OpcodeListModel> opcodeLists = models
            .Select(static (model, _) => (model.Namespace, model.TypeName, model.TypeKeyword, Opcode: new OpcodeModel(model.Opcode, model.OpcodeText, model.OpcodeName)))
            .Collect()
            .SelectMany(static (all, _) => all
                .GroupBy(static entry => (entry.Namespace, entry.TypeName, entry.TypeKeyword))
                .Select(static group => new OpcodeListModel(group.Key.Namespace, group.Key.TypeName, group.Key.TypeKeyword,
                    EquatableArray.From(group.Select(static entry => entry.Opcode).GroupBy(static o => o.Value).Select(static o => o.First()).OrderBy(static o => o.Value))))
                .OrderBy(static list => list.Namespace + "." + list.TypeName, System.StringComparer.Ordinal))
            .WithTrackingName(Steps.Opcodes);

        context.RegisterSourceOutput(opcodeLists, static (output, list) =>
            output.AddSource($"{(list.Namespace.Length > 0 ? list.Namespace + "." : string.Empty)}{list.TypeName}.g.cs", Emitter.EmitOpcodes(list)));
    }
}
