using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;

namespace Miniss.Bindings.Tests;

/// <summary>
/// Turns the generated C# of one header into a C file of <c>_Static_assert</c>s (sizes, alignments, member offsets and
/// sizes, constant values) and compiles it: the C compiler, not BindGen, has the last word on every number.
/// </summary>
internal static class CLayoutCheck
{
    /// <param name="lowerBound">Constants checked as lower bounds (<c>&gt;=</c>) instead of exact values: the "one past the
    /// last" counts when the headers are newer than the release the bindings state.</param>
    public static string Source(IEnumerable<string> defines, IEnumerable<string> includes, IEnumerable<RecordLayout> records, IEnumerable<ConstantValue> constants,
        Func<ConstantValue, bool>? lowerBound = null)
    {
        var c = new StringBuilder();
        foreach (string define in defines)
        {
            c.Append("#define ").Append(define).Append('\n');
        }

        foreach (string include in includes)
        {
            c.Append(include).Append('\n');
        }

        c.Append("#define MINISS_CHECK(e, what) _Static_assert(e, what)\n");
        c.Append("#define MINISS_OFFSETOF(t, m) __builtin_offsetof(t, m)\n\n");
        foreach (RecordLayout record in records)
        {
            string t = record.CName;
            c.Append($"MINISS_CHECK(sizeof({t}) == {record.Size}, \"sizeof({t})\");\n");
            c.Append($"MINISS_CHECK(_Alignof({t}) == {record.Alignment}, \"_Alignof({t})\");\n");
            foreach (FieldLayout field in record.Fields)
            {
                c.Append($"MINISS_CHECK(MINISS_OFFSETOF({t}, {field.Path}) == {field.Offset}, \"offsetof({t}, {field.Path})\");\n");
                if (field.Size >= 0)
                {
                    c.Append($"MINISS_CHECK(sizeof((({t} *)0)->{field.Path}) == {field.Size}, \"sizeof({t}.{field.Path})\");\n");
                }
            }

            c.Append('\n');
        }

        foreach (ConstantValue constant in constants)
        {
            string relation = lowerBound?.Invoke(constant) == true ? ">=" : "==";
            c.Append($"MINISS_CHECK(({constant.Name}) {relation} {constant.CLiteral}, \"{constant.ClassName}.{constant.Name}\");\n");
        }

        return c.ToString();
    }

    /// <summary>Compiles <paramref name="source"/>; returns the compiler's exit code and what it printed.</summary>
    public static (int ExitCode, string Output) Compile(string compiler, IEnumerable<string> arguments, string source)
    {
        string directory = Path.Combine(Path.GetTempPath(), "miniss-layout-check-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            string file = Path.Combine(directory, "check.c");
            File.WriteAllText(file, source);
            var start = new ProcessStartInfo(compiler)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            start.ArgumentList.Add("-std=gnu11");
            start.ArgumentList.Add("-fsyntax-only");
            start.ArgumentList.Add(file);
            using Process process = Process.Start(start)!;
            string stdout = process.StandardOutput.ReadToEndAsync().GetAwaiter().GetResult();
            string stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, stdout + stderr);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The system C compiler (<c>cc</c>) for the machine's own target.</summary>
    public static string SystemCompiler() => FindOnPath("cc", "gcc", "clang")
        ?? throw new InvalidOperationException("No C compiler on PATH: install gcc (apt-get install gcc) to run the layout check.");

    /// <summary>A clang that can target the other triples.</summary>
    public static string Clang() => FindOnPath(["clang", .. Enumerable.Range(11, 10).Reverse().Select(v => $"clang-{v}")])
        ?? throw new InvalidOperationException("No clang on PATH: install it (apt-get install clang) to check the cross-target layouts.");

    private static string? FindOnPath(params string[] names)
    {
        string[] path = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (string name in names)
        {
            foreach (string directory in path)
            {
                string candidate = Path.Combine(directory, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
