using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text.Json;

namespace Miniss.BenchCheck;

/// <summary>
/// Reads the figures of one short run from its artifacts folder, as <c>dotnet cake --target=BenchCheck</c> leaves it:
/// <c>native.txt</c> (the C floors' lines, <c>c:KEY</c> in ns per operation), <c>bdn/results/*.json</c>
/// (BenchmarkDotNet's JSON, <c>bdn:Namespace.Type.Method</c> in ns), <c>miniss-bench.json</c> and
/// <c>miniss-bench-one-core.json</c> (<c>miniss bench --json</c>, <c>miniss-bench:WORKLOAD:RUNTIME</c> and
/// <c>miniss-bench-one-core:...</c> in operations/s). A file that is absent adds no figure; the rows that need it
/// are then reported as not measured.
/// </summary>
internal static class RunFigures
{
    /// <summary>Every figure found under <paramref name="artifacts"/>.</summary>
    /// <exception cref="InvalidDataException">A file is there but is not what that step writes.</exception>
    public static Dictionary<string, double> Read(string artifacts)
    {
        var figures = new Dictionary<string, double>(StringComparer.Ordinal);
        string native = Path.Combine(artifacts, "native.txt");
        if (File.Exists(native))
        {
            ReadNative(File.ReadAllLines(native), figures);
        }

        string bdn = Path.Combine(artifacts, "bdn", "results");
        if (Directory.Exists(bdn))
        {
            foreach (string file in Directory.GetFiles(bdn, "*.json"))
            {
                ReadBenchmarkDotNet(File.ReadAllText(file), figures);
            }
        }

        foreach ((string file, string prefix) in new[] { ("miniss-bench.json", "miniss-bench:"), ("miniss-bench-one-core.json", "miniss-bench-one-core:") })
        {
            string path = Path.Combine(artifacts, file);
            if (File.Exists(path))
            {
                ReadMinissBench(File.ReadAllText(path), prefix, figures);
            }
        }

        return figures;
    }

    /// <summary>The C floors' lines: <c>nop batch=1 ns_per_op=X</c>, <c>read4k depth=32 mode=buffered iops=I ns_per_op=X</c>;
    /// the key is the line without its figures.</summary>
    public static void ReadNative(IEnumerable<string> lines, Dictionary<string, double> figures)
    {
        foreach (string line in lines)
        {
            string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var key = new List<string>();
            double? nanoseconds = null;
            foreach (string word in words)
            {
                if (word.StartsWith("ns_per_op=", StringComparison.Ordinal))
                {
                    nanoseconds = double.Parse(word.AsSpan("ns_per_op=".Length), CultureInfo.InvariantCulture);
                }
                else if (!word.StartsWith("iops=", StringComparison.Ordinal))
                {
                    key.Add(word);
                }
            }

            if (nanoseconds is { } ns)
            {
                figures["c:" + string.Join(' ', key)] = ns;
            }
        }
    }

    /// <summary>BenchmarkDotNet's JSON report: each benchmark's mean in ns, keyed by namespace, type, method and
    /// parameters.</summary>
    public static void ReadBenchmarkDotNet(string json, Dictionary<string, double> figures)
    {
        using JsonDocument document = Parse(json, "BenchmarkDotNet's JSON report");
        foreach (JsonElement benchmark in document.RootElement.GetProperty("Benchmarks").EnumerateArray())
        {
            string key = $"bdn:{benchmark.GetProperty("Namespace").GetString()}.{benchmark.GetProperty("Type").GetString()}.{benchmark.GetProperty("Method").GetString()}";
            string parameters = benchmark.TryGetProperty("Parameters", out JsonElement p) ? p.GetString() ?? string.Empty : string.Empty;
            if (parameters.Length > 0)
            {
                key += $"({parameters})";
            }

            if (benchmark.TryGetProperty("Statistics", out JsonElement statistics) && statistics.ValueKind == JsonValueKind.Object)
            {
                figures[key] = statistics.GetProperty("Mean").GetDouble();
            }
        }
    }

    /// <summary><c>miniss bench --json</c>: each row's operations/s, keyed by workload and runtime (with the backend
    /// on Miniss's rows: <c>Miniss io_uring</c>).</summary>
    public static void ReadMinissBench(string json, string prefix, Dictionary<string, double> figures)
    {
        using JsonDocument document = Parse(json, "miniss bench --json");
        foreach (JsonElement row in document.RootElement.GetProperty("results").EnumerateArray())
        {
            string runtime = row.GetProperty("runtime").GetString() ?? "?";
            if (row.TryGetProperty("backend", out JsonElement backend) && backend.ValueKind == JsonValueKind.String)
            {
                runtime += " " + backend.GetString();
            }

            figures[$"{prefix}{row.GetProperty("workload").GetString()}:{runtime}"] = row.GetProperty("operationsPerSecond").GetDouble();
        }
    }

    private static JsonDocument Parse(string json, string what)
    {
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{what} is not valid JSON: {e.Message}", e);
        }
    }
}
