using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Miniss.Bindings.Tests;

/// <summary>One compilation target of the bindings and the C# types that describe it.</summary>
public sealed record BindingTarget(string Triple, string Family, string Architecture)
{
    public static readonly BindingTarget[] All =
    [
        new("x86_64-linux-gnu", "Linux", "X64"),
        new("aarch64-linux-gnu", "Linux", "Arm64"),
        new("x86_64-apple-darwin", "Darwin", "X64"),
        new("arm64-apple-darwin", "Darwin", "Arm64"),
    ];

    public string FamilyNamespace => $"Miniss.Bindings.{Family}";

    public string TargetNamespace => $"{FamilyNamespace}.{Architecture}";

    public string HeadersFolder => Path.Combine(Repository.Root, "native-headers", Family.ToLowerInvariant());

    public override string ToString() => Triple;
}

/// <summary>A record as the generated C# describes it, with its fields flattened into C member paths.</summary>
internal sealed record RecordLayout(Type Type, string CName, string Header, int Size, int Alignment, IReadOnlyList<FieldLayout> Fields);

/// <summary>A member of a record: its C path (<c>__in6_u.__u6_addr8</c>), byte offset and size (-1 when it has no storage).</summary>
internal sealed record FieldLayout(string Path, int Offset, int Size, string CType);

internal sealed record ConstantValue(string ClassName, string Name, string Header, Type Type, object Value)
{
    /// <summary>The value as a C integer literal of the right signedness.</summary>
    public string CLiteral => Value switch
    {
        ulong u => u + "ULL",
        uint u => u + "U",
        ushort u => u.ToString(System.Globalization.CultureInfo.InvariantCulture),
        byte u => u.ToString(System.Globalization.CultureInfo.InvariantCulture),
        long l => l == long.MinValue ? "(-9223372036854775807LL - 1)" : l + "LL",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => throw new InvalidOperationException($"unexpected constant type {Value.GetType()}"),
    };
}

public sealed record RecipeInfo(string Family, string Header, string ClassName, string[] Targets, string[] CheckIncludes, string[] CheckDefines, string? CheckKernel = null)
{
    public override string ToString() => $"{Family.ToLowerInvariant()}/{Header}";
}

/// <summary>Reads the generated bindings by reflection, per target, the way a C compiler would see them.</summary>
internal static class GeneratedBindings
{
    private static readonly Assembly s_assembly = typeof(NativeLayoutAttribute).Assembly;

    public static IReadOnlyList<RecordLayout> Records(BindingTarget target)
    {
        var byName = new SortedDictionary<string, RecordLayout>(StringComparer.Ordinal);
        foreach (Type type in s_assembly.GetTypes())
        {
            if (type.IsNested || type.GetCustomAttribute<NativeLayoutAttribute>() is null)
            {
                continue;
            }

            // A record of the target's own namespace replaces the family's version of the same name.
            if (type.Namespace == target.FamilyNamespace && !byName.ContainsKey(type.Name) || type.Namespace == target.TargetNamespace)
            {
                byName[type.Name] = Describe(type);
            }
        }

        return byName.Values.ToList();
    }

    public static IReadOnlyList<ConstantValue> Constants(BindingTarget target)
    {
        var byName = new SortedDictionary<string, ConstantValue>(StringComparer.Ordinal);
        foreach (Type type in s_assembly.GetTypes())
        {
            if (!type.IsClass || type.GetCustomAttribute<NativeHeaderAttribute>() is not { } header
                || (type.Namespace != target.FamilyNamespace && type.Namespace != target.TargetNamespace))
            {
                continue;
            }

            foreach (FieldInfo field in type.GetFields(BindingFlags.Public | BindingFlags.Static))
            {
                // Constants that differ per target are literals in the target's class; the family keeps a selector.
                if (field.IsLiteral)
                {
                    byName[$"{type.Name}.{field.Name}"] = new ConstantValue(type.Name, field.Name, header.FileName, field.FieldType, field.GetRawConstantValue()!);
                }
            }
        }

        return byName.Values.ToList();
    }

    public static IReadOnlyList<RecipeInfo> Recipes()
    {
        var list = new List<RecipeInfo>();
        foreach (string file in Directory.GetFiles(Path.Combine(Repository.Root, "native-headers"), "*.recipe.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            using JsonDocument json = JsonDocument.Parse(File.ReadAllText(file));
            JsonElement root = json.RootElement;
            string[] Strings(JsonElement e, string name) =>
                e.TryGetProperty(name, out JsonElement a) ? a.EnumerateArray().Select(x => x.GetString()!).ToArray() : [];
            JsonElement check = root.TryGetProperty("check", out JsonElement c) ? c : default;
            string family = Path.GetFileName(Path.GetDirectoryName(file))!;
            list.Add(new RecipeInfo(
                family == "linux" ? "Linux" : "Darwin",
                root.GetProperty("header").GetString()!,
                root.GetProperty("class").GetString()!,
                Strings(root, "targets"),
                check.ValueKind == JsonValueKind.Object ? Strings(check, "includes") : [],
                check.ValueKind == JsonValueKind.Object ? Strings(check, "defines") : [],
                check.ValueKind == JsonValueKind.Object && check.TryGetProperty("kernel", out JsonElement k) ? k.GetString() : null));
        }

        return list;
    }

    private static RecordLayout Describe(Type type)
    {
        NativeLayoutAttribute layout = type.GetCustomAttribute<NativeLayoutAttribute>()!;
        var fields = new List<FieldLayout>();
        AddFields(type, string.Empty, 0, fields);
        return new RecordLayout(type, type.GetCustomAttribute<NativeTypeNameAttribute>()!.Name, type.GetCustomAttribute<NativeHeaderAttribute>()!.FileName,
            layout.Size, layout.Alignment, fields);
    }

    private static void AddFields(Type type, string prefix, int baseOffset, List<FieldLayout> fields)
    {
        foreach (FieldInfo field in type.GetFields(BindingFlags.Public | BindingFlags.Instance).OrderBy(f => Offset(f)).ThenBy(f => f.MetadataToken))
        {
            int offset = baseOffset + Offset(field);
            string cType = field.GetCustomAttribute<NativeTypeNameAttribute>()?.Name ?? "?";
            fields.Add(new FieldLayout(prefix + field.Name, offset, SizeOf(field.FieldType), cType));
            if (field.FieldType.IsNested && field.FieldType.DeclaringType == type && field.FieldType.GetCustomAttribute<NativeLayoutAttribute>() is not null)
            {
                // A member of an unnamed record type: its own members are reached through it, as in C.
                AddFields(field.FieldType, prefix + field.Name + ".", offset, fields);
            }
        }

        foreach (MethodInfo method in type.GetMethods(BindingFlags.Public | BindingFlags.Static))
        {
            if (method.GetCustomAttribute<NativeFlexibleArrayAttribute>() is { } flexible)
            {
                fields.Add(new FieldLayout(prefix + flexible.Name, baseOffset + flexible.Offset, -1, "flexible array"));
            }
        }
    }

    private static int Offset(FieldInfo field) => field.GetCustomAttribute<FieldOffsetAttribute>()!.Value;

    public static int SizeOf(Type type) =>
        type.IsPointer ? IntPtr.Size : (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(type).Invoke(null, null)!;
}

internal static class Repository
{
    public static string Root { get; } = Find();

    private static string Find([CallerFilePath] string here = "")
    {
        // The tests read native-headers and their snapshots from the source tree they were built from.
        string? directory = Path.GetDirectoryName(here);
        while (directory is not null && !File.Exists(Path.Combine(directory, "Miniss.sln")))
        {
            directory = Path.GetDirectoryName(directory);
        }

        return directory ?? throw new InvalidOperationException($"Miniss.sln not found above {here}");
    }
}
