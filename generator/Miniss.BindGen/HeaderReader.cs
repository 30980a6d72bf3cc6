using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using Miniss.BindGen.Clang;

namespace Miniss.BindGen;

/// <summary>
/// Reads one recipe's header for one target through libclang: record layouts as clang computes them, constants as
/// clang evaluates them, and function prototypes.
/// </summary>
internal sealed class HeaderReader : IDisposable
{
    private const string ConstantPrefix = "__miniss_constant_";

    private readonly nint _index = LibClang.clang_createIndex(0, 0);

    public TargetModel Read(Recipe recipe, TargetTriple target)
    {
        var model = new TargetModel(recipe, target);
        string includeDir = Path.GetDirectoryName(recipe.HeaderPath)!;
        using TranslationUnit unit = TranslationUnit.Parse(_index, recipe.HeaderPath, null, target, includeDir);
        var scope = new Scope(recipe, target);
        scope.Scan(ClangWalk.Children(unit.Cursor));

        ReadRecords(recipe, target, scope, model);
        ReadFunctions(recipe, target, scope, model);
        ReadConstants(recipe, target, scope, includeDir, model);
        return model;
    }

    private static void ReadRecords(Recipe recipe, TargetTriple target, Scope scope, TargetModel model)
    {
        var pending = new Queue<(CXType Type, string Name)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string name in recipe.Records)
        {
            if (!scope.TryFindRecord(name, out CXType type))
            {
                throw new BindGenException($"{recipe.RecipePath}: record '{name}' is not declared in {Path.GetFileName(recipe.HeaderPath)} (target {target}).");
            }

            if (seen.Add(name))
            {
                pending.Enqueue((type, name));
            }
        }

        while (pending.Count > 0)
        {
            (CXType type, string name) = pending.Dequeue();
            var builder = new RecordBuilder(scope, recipe, target);
            NativeRecord record = builder.Build(type, name, Scope.CSpellingOf(type, name));
            model.Records.Add(record);
            foreach ((CXType dependency, string dependencyName) in builder.Referenced)
            {
                if (seen.Add(dependencyName))
                {
                    pending.Enqueue((dependency, dependencyName));
                }
            }
        }
    }

    private static void ReadFunctions(Recipe recipe, TargetTriple target, Scope scope, TargetModel model)
    {
        foreach (string name in recipe.Functions)
        {
            if (!scope.Functions.TryGetValue(name, out CXCursor function))
            {
                throw new BindGenException($"{recipe.RecipePath}: function '{name}' is not declared in {Path.GetFileName(recipe.HeaderPath)} (target {target}).");
            }

            CXType type = LibClang.clang_getCursorType(function);
            if (LibClang.clang_isFunctionTypeVariadic(type) != 0)
            {
                throw new BindGenException(
                    $"{recipe.RecipePath}: function '{name}' is variadic; declare a fixed-argument prototype in the header (variadic calls cannot be bound portably).");
            }

            var typeMapper = new RecordBuilder(scope, recipe, target);
            var parameters = new List<NativeParameter>();
            int count = LibClang.clang_Cursor_getNumArguments(function);
            for (uint i = 0; i < count; i++)
            {
                CXCursor argument = LibClang.clang_Cursor_getArgument(function, i);
                string argumentName = ClangWalk.Spelling(argument);
                CXType argumentType = LibClang.clang_getCursorType(argument);
                parameters.Add(new NativeParameter(
                    argumentName.Length == 0 ? $"arg{i}" : argumentName,
                    ClangWalk.CleanSpelling(argumentType),
                    typeMapper.MapScalar(argumentType, $"parameter {argumentName} of {name}")));
            }

            CXType result = LibClang.clang_getResultType(type);
            NativeType returnType = ClangWalk.Canonical(result).Kind == CXTypeKind.Void
                ? new NativeType("void")
                : typeMapper.MapScalar(result, $"the result of {name}");
            var prototype = new StringBuilder(ClangWalk.CleanSpelling(result)).Append(' ').Append(name).Append('(');
            for (int i = 0; i < parameters.Count; i++)
            {
                prototype.Append(i > 0 ? ", " : string.Empty).Append(parameters[i].CType).Append(' ').Append(parameters[i].Name);
            }

            model.Functions.Add(new NativeFunction(name, prototype.Append(')').ToString(), returnType, parameters));
        }
    }

    private void ReadConstants(Recipe recipe, TargetTriple target, Scope scope, string includeDir, TargetModel model)
    {
        var names = new List<(string Name, string Kind, int Line)>();
        var taken = new HashSet<string>(StringComparer.Ordinal);
        foreach (string entry in recipe.Constants)
        {
            bool prefix = entry.EndsWith('*');
            string stem = prefix ? entry[..^1] : entry;
            int matched = 0;
            foreach ((string name, string kind, int line) in scope.ConstantNames)
            {
                if (prefix ? name.StartsWith(stem, StringComparison.Ordinal) : name == stem)
                {
                    matched++;
                    if (taken.Add(name))
                    {
                        names.Add((name, kind, line));
                    }
                }
            }

            if (matched == 0)
            {
                throw new BindGenException(prefix
                    ? $"{recipe.RecipePath}: no macro or enumerator in {Path.GetFileName(recipe.HeaderPath)} starts with '{stem}' (target {target})."
                    : $"{recipe.RecipePath}: constant '{stem}' is not declared in {Path.GetFileName(recipe.HeaderPath)} (target {target}).");
            }
        }

        if (names.Count == 0)
        {
            return;
        }

        // Clang evaluates each constant: one variable per name, typed as the constant's own expression.
        var source = new StringBuilder();
        source.Append("#include \"").Append(Path.GetFileName(recipe.HeaderPath)).Append("\"\n");
        for (int i = 0; i < names.Count; i++)
        {
            source.Append(CultureInfo.InvariantCulture, $"const __typeof__({names[i].Name}) {ConstantPrefix}{i} = ({names[i].Name});\n");
        }

        string path = Path.Combine(includeDir, $"__miniss_constants_{recipe.Name}.c");
        using TranslationUnit unit = TranslationUnit.Parse(_index, path, source.ToString(), target, includeDir, failOnDiagnostics: false);
        List<(CXDiagnosticSeverity Severity, string Text)> diagnostics = unit.Diagnostics();
        if (diagnostics.Count > 0)
        {
            var message = new StringBuilder($"{recipe.RecipePath}: some constants are not integer constant expressions for {target}:");
            foreach ((_, string text) in diagnostics)
            {
                message.Append(Environment.NewLine).Append("  ").Append(Explain(text, path, names));
            }

            throw new BindGenException(message.ToString());
        }

        var values = new Dictionary<int, NativeConstant>();
        foreach (CXCursor cursor in ClangWalk.Children(unit.Cursor))
        {
            if (LibClang.clang_getCursorKind(cursor) != CXCursorKind.VarDecl)
            {
                continue;
            }

            string variable = ClangWalk.Spelling(cursor);
            if (!variable.StartsWith(ConstantPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            int i = int.Parse(variable.AsSpan(ConstantPrefix.Length), CultureInfo.InvariantCulture);
            (string name, string kind, int line) = names[i];
            CXType type = ClangWalk.Canonical(LibClang.clang_getCursorType(cursor));
            if (type.Kind == CXTypeKind.Enum)
            {
                type = ClangWalk.Canonical(LibClang.clang_getEnumDeclIntegerType(LibClang.clang_getTypeDeclaration(type)));
            }

            (string csharp, bool unsigned) = RecordBuilder.IntegerType(type)
                ?? throw new BindGenException($"{recipe.RecipePath}: constant '{name}' has type '{ClangWalk.Spelling(type)}', not an integer type (target {target}).");
            nint result = LibClang.clang_Cursor_Evaluate(cursor);
            if (result == 0 || LibClang.clang_EvalResult_getKind(result) != CXEvalResultKind.Int)
            {
                if (result != 0)
                {
                    LibClang.clang_EvalResult_dispose(result);
                }

                throw new BindGenException($"{recipe.RecipePath}: clang could not evaluate constant '{name}' as an integer (target {target}).");
            }

            ulong bits = unsigned
                ? LibClang.clang_EvalResult_getAsUnsigned(result)
                : unchecked((ulong)LibClang.clang_EvalResult_getAsLongLong(result));
            LibClang.clang_EvalResult_dispose(result);
            values[i] = new NativeConstant(name, ClangWalk.Spelling(type).Replace("const ", string.Empty, StringComparison.Ordinal),
                csharp, unsigned, bits, kind, Path.GetFileName(recipe.HeaderPath), line);
        }

        for (int i = 0; i < names.Count; i++)
        {
            model.Constants.Add(values.TryGetValue(i, out NativeConstant? constant)
                ? constant
                : throw new BindGenException($"{recipe.RecipePath}: constant '{names[i].Name}' was not evaluated (target {target})."));
        }
    }

    /// <summary>Turns a diagnostic about the synthetic file back into the name of the constant at fault.</summary>
    private static string Explain(string diagnostic, string syntheticPath, List<(string Name, string Kind, int Line)> names)
    {
        string marker = syntheticPath + ":";
        if (diagnostic.StartsWith(marker, StringComparison.Ordinal))
        {
            string rest = diagnostic[marker.Length..];
            int colon = rest.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && int.TryParse(rest.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out int line)
                && line >= 2 && line - 2 < names.Count)
            {
                (string name, _, int declaredAt) = names[line - 2];
                int message = rest.IndexOf(": ", colon + 1, StringComparison.Ordinal);
                return $"{name} (declared at line {declaredAt}): {(message > 0 ? rest[(message + 2)..] : rest)}";
            }
        }

        return diagnostic;
    }

    public void Dispose() => LibClang.clang_disposeIndex(_index);

    /// <summary>The declarations of one parsed header, indexed by name.</summary>
    internal sealed class Scope(Recipe recipe, TargetTriple target)
    {
        private readonly Dictionary<string, CXType> _tags = new(StringComparer.Ordinal);
        private readonly Dictionary<string, CXType> _typedefs = new(StringComparer.Ordinal);
        private readonly HashSet<string> _declaredInHeader = new(StringComparer.Ordinal);

        public Recipe Recipe { get; } = recipe;
        public TargetTriple Target { get; } = target;
        public Dictionary<string, CXCursor> Functions { get; } = new(StringComparer.Ordinal);
        public List<(string Name, string Kind, int Line)> ConstantNames { get; } = [];

        public void Scan(List<CXCursor> topLevel)
        {
            foreach (CXCursor cursor in topLevel)
            {
                CXCursorKind kind = LibClang.clang_getCursorKind(cursor);
                (string file, int line) = ClangWalk.Location(cursor);
                bool inHeader = file.Length > 0 && string.Equals(Path.GetFullPath(file), Recipe.HeaderPath, StringComparison.Ordinal);
                string name = ClangWalk.Spelling(cursor);
                switch (kind)
                {
                    case CXCursorKind.StructDecl or CXCursorKind.UnionDecl
                        when LibClang.clang_isCursorDefinition(cursor) != 0 && LibClang.clang_Cursor_isAnonymous(cursor) == 0:
                        _tags[name] = LibClang.clang_getCursorType(cursor);
                        if (inHeader)
                        {
                            _declaredInHeader.Add(name);
                        }

                        break;
                    case CXCursorKind.TypedefDecl:
                        CXType underlying = ClangWalk.Canonical(LibClang.clang_getTypedefDeclUnderlyingType(cursor));
                        _typedefs[name] = underlying;
                        if (inHeader)
                        {
                            _declaredInHeader.Add(name);
                        }

                        break;
                    case CXCursorKind.EnumDecl when inHeader:
                        foreach (CXCursor enumerator in ClangWalk.Children(cursor))
                        {
                            if (LibClang.clang_getCursorKind(enumerator) == CXCursorKind.EnumConstantDecl)
                            {
                                ConstantNames.Add((ClangWalk.Spelling(enumerator), "enumerator", ClangWalk.Location(enumerator).Line));
                            }
                        }

                        break;
                    case CXCursorKind.MacroDefinition when inHeader && LibClang.clang_Cursor_isMacroFunctionLike(cursor) == 0:
                        ConstantNames.Add((name, "macro", line));
                        break;
                    case CXCursorKind.FunctionDecl when inHeader:
                        Functions[name] = cursor;
                        break;
                }
            }
        }

        /// <summary>A record the recipe names: a struct or union tag, or a typedef of one, declared in the recipe's header.</summary>
        public bool TryFindRecord(string name, out CXType type)
        {
            if (_declaredInHeader.Contains(name))
            {
                if (_tags.TryGetValue(name, out type))
                {
                    return true;
                }

                if (_typedefs.TryGetValue(name, out type) && type.Kind == CXTypeKind.Record)
                {
                    return true;
                }
            }

            type = default;
            return false;
        }

        /// <summary>How C names the record: <c>struct tag</c>, <c>union tag</c>, or the typedef of an unnamed record.</summary>
        public static string CSpellingOf(CXType type, string name)
        {
            CXCursor declaration = LibClang.clang_getTypeDeclaration(type);
            if (LibClang.clang_Cursor_isAnonymous(declaration) != 0 || TypedefNameOf(declaration) is not null)
            {
                return name;
            }

            return (LibClang.clang_getCursorKind(declaration) == CXCursorKind.UnionDecl ? "union " : "struct ") + name;
        }

        /// <summary>
        /// The typedef name of an unnamed record that a typedef names (<c>typedef struct { ... } cpu_set_t;</c>), or
        /// null: clang gives such a record the typedef's name in its USR (<c>c:@SA@cpu_set_t</c>, <c>c:@UA@...</c>).
        /// </summary>
        private static string? TypedefNameOf(CXCursor declaration)
        {
            string usr = LibClang.Take(LibClang.clang_getCursorUSR(declaration));
            return usr.StartsWith("c:@SA@", StringComparison.Ordinal) || usr.StartsWith("c:@UA@", StringComparison.Ordinal)
                ? usr["c:@SA@".Length..]
                : null;
        }

        /// <summary>The C# name of a named record type (its tag, or the typedef that names an unnamed one).</summary>
        public static string? NameOf(CXType canonicalRecord)
        {
            CXCursor declaration = LibClang.clang_getTypeDeclaration(canonicalRecord);
            if (TypedefNameOf(declaration) is { } typedefName)
            {
                return typedefName;
            }

            string spelling = ClangWalk.Spelling(declaration);
            return LibClang.clang_Cursor_isAnonymous(declaration) == 0 && spelling.Length > 0 ? spelling : null;
        }
    }
}
