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
    }
}
