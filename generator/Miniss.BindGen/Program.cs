using System;
using System.Collections.Generic;
using System.IO;
using Miniss.BindGen.Clang;

namespace Miniss.BindGen;

/// <summary>
/// <c>Miniss.BindGen [--headers DIR] [--out DIR] [--verify]</c>: regenerates <c>bindings/Miniss.Bindings/Generated</c>
/// from <c>native-headers</c>, or with <c>--verify</c> fails when the committed files differ from a fresh generation.
/// Exit codes: 0 success, 1 error or drift, 2 bad arguments.
/// </summary>
public static class Program
{
    private const string Usage =
        "usage: Miniss.BindGen [--headers DIR] [--out DIR] [--verify]\n" +
        "  --headers DIR  the native-headers folder (default: native-headers)\n" +
        "  --out DIR      the folder of generated C# (default: bindings/Miniss.Bindings/Generated)\n" +
        "  --verify       generate in memory and fail if any committed file would change\n" +
        $"  libclang is found by probing its usual names; {LibClangLoader.OverrideVariable}=PATH overrides the search.";

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs BindGen with the given arguments, writing to the given streams; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        string headers = "native-headers";
        string outputRoot = Path.Combine("bindings", "Miniss.Bindings", "Generated");
        bool verify = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--headers" when i + 1 < args.Length:
                    headers = args[++i];
                    break;
                case "--out" when i + 1 < args.Length:
                    outputRoot = args[++i];
                    break;
                case "--verify":
                    verify = true;
                    break;
                case "-h" or "--help":
                    output.WriteLine(Usage);
                    return 0;
                default:
                    error.WriteLine($"Miniss.BindGen: unknown or incomplete argument '{args[i]}'.");
                    error.WriteLine(Usage);
                    return 2;
            }
        }

        try
        {
            LibClangLoader.EnsureLoaded();
            IReadOnlyList<Recipe> recipes = Recipe.LoadAll(headers);
            SortedDictionary<string, string> files = new BindingsWriter(headers).Generate(recipes);
            if (verify)
            {
                List<string> differences = BindingsWriter.Compare(outputRoot, files);
                if (differences.Count > 0)
                {
                    error.WriteLine($"Miniss.BindGen: the committed bindings in {outputRoot} differ from the headers ({differences.Count} files):");
                    foreach (string line in differences)
                    {
                        error.WriteLine("  " + line);
                    }

                    error.WriteLine("Run `dotnet cake --target=Generate` and commit the result.");
                    return 1;
                }

                output.WriteLine($"Miniss.BindGen: {files.Count} generated files in {outputRoot} match {recipes.Count} recipes.");
                return 0;
            }

            BindingsWriter.Write(outputRoot, files);
            output.WriteLine($"Miniss.BindGen: wrote {files.Count} files to {outputRoot} from {recipes.Count} recipes (libclang: {LibClangLoader.LoadedFrom}).");
            return 0;
        }
        catch (BindGenException e)
        {
            error.WriteLine("Miniss.BindGen: error: " + e.Message);
            return 1;
        }
        catch (IOException e)
        {
            error.WriteLine("Miniss.BindGen: error: " + e.Message);
            return 1;
        }
        catch (UnauthorizedAccessException e)
        {
            error.WriteLine("Miniss.BindGen: error: " + e.Message);
            return 1;
        }
    }
}
