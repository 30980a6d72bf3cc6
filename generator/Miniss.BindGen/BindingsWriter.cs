using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace Miniss.BindGen;

/// <summary>
/// Combines what every recipe yields for every target into C# files: one file per record and one per constant
/// class; what is the same on every target of an OS family goes to <c>Miniss.Bindings.{Family}</c>, what differs
/// to <c>Miniss.Bindings.{Family}.{Architecture}</c>, with a selector in the family class for differing constants.
/// </summary>
internal sealed class BindingsWriter(string headersRoot)
{
    // Case-insensitive: on macOS and Windows file systems Foo.cs and foo.cs are one file.
    private readonly Dictionary<string, string> _owners = new(StringComparer.OrdinalIgnoreCase);
    private readonly string _repositoryRoot = Path.GetDirectoryName(Path.GetFullPath(headersRoot).TrimEnd(Path.DirectorySeparatorChar))!;

    /// <summary>Generates every file, keyed by its path relative to the output folder (forward slashes).</summary>
    public SortedDictionary<string, string> Generate(IReadOnlyList<Recipe> recipes)
    {
        var models = new List<TargetModel>();
        using (var reader = new HeaderReader())
        {
            foreach (Recipe recipe in recipes)
            {
                foreach (TargetTriple target in recipe.Targets)
                {
                    models.Add(reader.Read(recipe, target));
                }
            }
        }

        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (IGrouping<string, TargetModel> family in models.GroupBy(m => m.Recipe.Family))
        {
            EmitFamily(family.Key, family.ToList(), files);
        }

        return files;
    }

    private void EmitFamily(string family, List<TargetModel> models, SortedDictionary<string, string> files)
    {
        List<TargetTriple> targets = models.Select(m => m.Target).Distinct().OrderBy(t => TargetTriple.All.ToList().IndexOf(t)).ToList();
        string familyNamespace = $"{CSharpEmitter.RootNamespace}.{family}";

        // Every record of the family, per target; the same record reached from two recipes must agree.
        var records = new SortedDictionary<string, Dictionary<TargetTriple, (NativeRecord Record, Recipe Recipe)>>(StringComparer.Ordinal);
        foreach (TargetModel model in models)
        {
            foreach (NativeRecord record in model.Records)
            {
                if (!records.TryGetValue(record.Name, out Dictionary<TargetTriple, (NativeRecord, Recipe)>? perTarget))
                {
                    records[record.Name] = perTarget = [];
                }

                if (perTarget.TryGetValue(model.Target, out (NativeRecord Record, Recipe Recipe) existing))
                {
                    var everything = new HashSet<string>(records.Keys, StringComparer.Ordinal);
                    if (CSharpEmitter.RecordBody(existing.Record, everything) != CSharpEmitter.RecordBody(record, everything))
                    {
                        throw new BindGenException(
                            $"record '{record.Name}' is declared differently by {existing.Recipe.RecipePath} and {model.Recipe.RecipePath} for {model.Target}.");
                    }

                    continue;
                }

                perTarget[model.Target] = (record, model.Recipe);
            }
        }

        // A record is shared when every target has it, with the same text, and everything it embeds is shared.
        var shared = new HashSet<string>(records.Keys, StringComparer.Ordinal);
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach ((string name, Dictionary<TargetTriple, (NativeRecord Record, Recipe Recipe)> perTarget) in records)
            {
                if (!shared.Contains(name))
                {
                    continue;
                }

                bool same = perTarget.Count == targets.Count
                    && perTarget.Values.Select(v => CSharpEmitter.RecordBody(v.Record, shared)).Distinct().Count() == 1
                    && perTarget.Values.First().Record.Dependencies.All(shared.Contains);
                if (!same)
                {
                    shared.Remove(name);
                    changed = true;
                }
            }
        }

        foreach ((string name, Dictionary<TargetTriple, (NativeRecord Record, Recipe Recipe)> perTarget) in records)
        {
            if (shared.Contains(name))
            {
                (NativeRecord record, Recipe recipe) = perTarget[targets.First(perTarget.ContainsKey)];
                string header = CSharpEmitter.Header(Source(recipe.HeaderPath), targets);
                Add(files, $"{family}/{name}.cs", CSharpEmitter.Record(record, familyNamespace, header, shared), recipe);
                continue;
            }

            foreach ((TargetTriple target, (NativeRecord record, Recipe recipe)) in perTarget)
            {
                var known = new HashSet<string>(shared, StringComparer.Ordinal);
                foreach ((string other, Dictionary<TargetTriple, (NativeRecord, Recipe)> otherPerTarget) in records)
                {
                    if (otherPerTarget.ContainsKey(target))
                    {
                        known.Add(other);
                    }
                }

                string header = CSharpEmitter.Header(Source(recipe.HeaderPath), [target]);
                Add(files, $"{family}/{target.Architecture}/{name}.cs",
                    CSharpEmitter.Record(record, $"{familyNamespace}.{target.Architecture}", header, known), recipe);
            }
        }

        foreach (IGrouping<Recipe, TargetModel> byRecipe in models.GroupBy(m => m.Recipe))
        {
            EmitClass(family, byRecipe.Key, byRecipe.ToList(), shared, files);
        }
    }

    private void EmitClass(string family, Recipe recipe, List<TargetModel> models, HashSet<string> shared, SortedDictionary<string, string> files)
    {
        if (models.All(m => m.Constants.Count == 0 && m.Functions.Count == 0))
        {
            return;
        }

        string familyNamespace = $"{CSharpEmitter.RootNamespace}.{family}";
        TargetModel first = models[0];
        var common = new StringBuilder();
        var perTarget = models.ToDictionary(m => m.Target, _ => new StringBuilder());

        foreach (NativeConstant constant in first.Constants)
        {
            var values = new List<(TargetTriple Target, NativeConstant Constant)>();
            foreach (TargetModel model in models)
            {
                NativeConstant? match = model.Constants.Find(c => c.Name == constant.Name)
                    ?? throw new BindGenException($"{recipe.RecipePath}: constant '{constant.Name}' exists for {first.Target} but not for {model.Target}.");
                values.Add((model.Target, match));
            }

            if (values.Any(v => v.Constant.CSharpType != constant.CSharpType))
            {
                throw new BindGenException(
                    $"{recipe.RecipePath}: constant '{constant.Name}' (C type {constant.CType}) maps to different C# types per target " +
                    $"({string.Join(", ", values.Select(v => $"{v.Target}: {v.Constant.CSharpType}"))}); give it a type of fixed signedness in the header.");
            }

            if (common.Length > 0)
            {
                common.Append('\n');
            }

            if (values.All(v => v.Constant.Bits == constant.Bits))
            {
                CSharpEmitter.Constant(common, constant);
                continue;
            }

            CSharpEmitter.SelectedConstant(common, values, recipe.ClassName);
            foreach ((TargetTriple target, NativeConstant value) in values)
            {
                StringBuilder s = perTarget[target];
                if (s.Length > 0)
                {
                    s.Append('\n');
                }

                CSharpEmitter.Constant(s, value);
            }
        }

        string library = family == "Darwin" ? "/usr/lib/libSystem.B.dylib" : "libc.so.6";
        foreach (NativeFunction function in first.Functions)
        {
            string signature = Signature(function, shared);
            foreach (TargetModel model in models)
            {
                NativeFunction? other = model.Functions.Find(f => f.Name == function.Name);
                if (other is null || Signature(other, shared) != signature)
                {
                    throw new BindGenException($"{recipe.RecipePath}: function '{function.Name}' has a different signature on {model.Target}; BindGen binds one signature per family.");
                }
            }

            if (common.Length > 0)
            {
                common.Append('\n');
            }

            CSharpEmitter.Function(common, function, library, shared);
        }

        List<TargetTriple> targets = models.Select(m => m.Target).ToList();
        bool functions = first.Functions.Count > 0;
        Add(files, $"{family}/{recipe.ClassName}.cs", ClassFile(
            CSharpEmitter.Header(Source(recipe.HeaderPath), targets), familyNamespace, recipe, common, functions), recipe);
        foreach ((TargetTriple target, StringBuilder s) in perTarget)
        {
            if (s.Length > 0)
            {
                Add(files, $"{family}/{target.Architecture}/{recipe.ClassName}.cs", ClassFile(
                    CSharpEmitter.Header(Source(recipe.HeaderPath), [target]), $"{familyNamespace}.{target.Architecture}", recipe, s, false), recipe);
            }
        }
    }

    private static string ClassFile(string header, string @namespace, Recipe recipe, StringBuilder members, bool functions)
    {
        var s = new StringBuilder(header).Append('\n');
        if (functions)
        {
            s.Append("using System.Runtime.InteropServices;\n\n");
        }

        s.Append("namespace ").Append(@namespace).Append(";\n\n");
        s.Append("/// <summary>Constants").Append(functions ? " and functions" : string.Empty).Append(" of <c>")
            .Append(Path.GetFileName(recipe.HeaderPath)).Append("</c>.</summary>\n");
        s.Append("[NativeHeader(\"").Append(Path.GetFileName(recipe.HeaderPath)).Append("\")]\n");
        s.Append("public static ").Append(functions ? "unsafe " : string.Empty).Append("partial class ").Append(recipe.ClassName).Append('\n');
        s.Append("{\n").Append(members).Append("}\n");
        return s.ToString();
    }

    /// <summary>Adds a generated file; two outputs with one name (a class named like a record, two recipes with one
    /// class) are an error rather than one silently replacing the other.</summary>
    private void Add(SortedDictionary<string, string> files, string path, string content, Recipe recipe)
    {
        if (!_owners.TryAdd(path, recipe.RecipePath))
        {
            if (_owners[path] == recipe.RecipePath && files.TryGetValue(path, out string? same) && same == content)
            {
                return;
            }

            throw new BindGenException(
                $"{recipe.RecipePath}: it would write {path}, which {_owners[path]} writes too; give each record and each recipe's class its own name.");
        }

        files[path] = content;
    }

    private static string Signature(NativeFunction function, ISet<string> shared)
    {
        var s = new StringBuilder();
        CSharpEmitter.Function(s, function, string.Empty, shared);
        return s.ToString();
    }

    private string Source(string path) => Path.GetRelativePath(_repositoryRoot, path).Replace(Path.DirectorySeparatorChar, '/');

    /// <summary>Replaces the generated files under <paramref name="outputRoot"/>; hand-written <c>*.Manual.cs</c> files stay.</summary>
    public static void Write(string outputRoot, SortedDictionary<string, string> files)
    {
        if (Directory.Exists(outputRoot))
        {
            foreach (string existing in GeneratedFiles(outputRoot))
            {
                File.Delete(Path.Combine(outputRoot, existing));
            }
        }

        foreach ((string relative, string content) in files)
        {
            string path = Path.Combine(outputRoot, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, content);
        }

        string[] directories = Directory.Exists(outputRoot) ? Directory.GetDirectories(outputRoot, "*", SearchOption.AllDirectories) : [];
        foreach (string directory in directories.OrderByDescending(d => d.Length))
        {
            if (Directory.GetFileSystemEntries(directory).Length == 0)
            {
                Directory.Delete(directory);
            }
        }
    }

    /// <summary>The differences between the committed files and a fresh generation, one line each; empty when none.</summary>
    public static List<string> Compare(string outputRoot, SortedDictionary<string, string> files)
    {
        var differences = new List<string>();
        var committed = Directory.Exists(outputRoot) ? GeneratedFiles(outputRoot) : [];
        foreach ((string relative, string content) in files)
        {
            string path = Path.Combine(outputRoot, relative);
            if (!File.Exists(path))
            {
                differences.Add($"missing:  {relative}");
            }
            else if (File.ReadAllText(path) != content)
            {
                differences.Add($"changed:  {relative}");
            }
        }

        foreach (string relative in committed)
        {
            if (!files.ContainsKey(relative))
            {
                differences.Add($"obsolete: {relative}");
            }
        }

        return differences;
    }

    private static List<string> GeneratedFiles(string outputRoot)
    {
        var list = new List<string>();
        foreach (string file in Directory.GetFiles(outputRoot, "*.cs", SearchOption.AllDirectories))
        {
            if (!file.EndsWith(".Manual.cs", StringComparison.Ordinal))
            {
                list.Add(Path.GetRelativePath(outputRoot, file).Replace(Path.DirectorySeparatorChar, '/'));
            }
        }

        list.Sort(StringComparer.Ordinal);
        return list;
    }
}
