using System.Collections.Generic;
using System.IO;
using NUnit.Framework;

namespace Miniss.BindGen.Tests;

/// <summary>Bad input is reported as one clear message with exit code 1 (2 for bad arguments), never a stack trace.</summary>
[TestFixture]
public sealed class ErrorReportingTests
{
    private BindGenTree _tree = null!;

    [SetUp]
    public void SetUp() => _tree = new BindGenTree();

    [TearDown]
    public void TearDown() => _tree.Dispose();

    [Test]
    public void A_header_that_does_not_parse_reports_file_line_and_clang_message()
    {
        _tree.WriteHeader("broken.h", "#define BROKEN_A 1\nstruct broken { int a }\n");
        _tree.WriteRecipe("broken", "Broken", records: ["broken"]);

        BindGenResult result = _tree.Generate();

        AssertCleanError(result);
        Assert.That(result.Error, Does.Contain("broken.h:2:"), "file name and line of the fault");
        Assert.That(result.Error, Does.Contain("expected ';'"), "clang's own message");
    }

    [Test]
    public void A_recipe_naming_a_record_that_does_not_exist_is_an_error()
    {
        _tree.WriteHeader("rec.h", "struct present { int a; };\n");
        _tree.WriteRecipe("rec", "Rec", records: ["present", "absent"]);

        BindGenResult result = _tree.Generate();

        AssertCleanError(result);
        Assert.That(result.Error, Does.Contain("record 'absent' is not declared in rec.h"));
        Assert.That(result.Error, Does.Contain("rec.recipe.json"), "names the recipe at fault");
    }

    /// <summary>Recipes naming constants the header does not declare, named as the test each is, and the error expected.</summary>
    private static IEnumerable<TestCaseData> UndeclaredConstants()
    {
        yield return new TestCaseData("#define CON_PRESENT 1\n", new[] { "CON_PRESENT", "CON_ABSENT" }, "constant 'CON_ABSENT' is not declared in con.h")
            .SetName("A_recipe_naming_a_constant_that_does_not_exist_is_an_error");
        yield return new TestCaseData("#define CON_PRESENT_LONGER 1\n", new[] { "CON_PRESENT" }, "constant 'CON_PRESENT' is not declared in con.h")
            .SetName("An_exact_constant_name_does_not_match_longer_names");
        yield return new TestCaseData("#define CON_A 1\n", new[] { "CON_*", "NOTHING_*" }, "no macro or enumerator in con.h starts with 'NOTHING_'")
            .SetName("A_recipe_prefix_that_matches_nothing_is_an_error");
    }

    [TestCaseSource(nameof(UndeclaredConstants))]
    public void A_recipe_constant_the_header_does_not_declare_is_an_error(string header, string[] constants, string expected)
    {
        _tree.WriteHeader("con.h", header);
        _tree.WriteRecipe("con", "Con", constants: constants);

        BindGenResult result = _tree.Generate();

        AssertCleanError(result);
        Assert.That(result.Error, Does.Contain(expected));
    }

    /// <summary>Recipes naming functions that cannot be bound, named as the test each is, and the error expected.</summary>
    private static IEnumerable<TestCaseData> UnboundFunctions()
    {
        yield return new TestCaseData("int present(int a);\n", new[] { "present", "absent" }, "function 'absent' is not declared in fun.h")
            .SetName("A_recipe_naming_a_function_that_does_not_exist_is_an_error");
        yield return new TestCaseData("int my_printf(const char *format, ...);\n", new[] { "my_printf" }, "function 'my_printf' is variadic")
            .SetName("A_variadic_function_is_an_error");
    }

    [TestCaseSource(nameof(UnboundFunctions))]
    public void A_recipe_function_that_cannot_be_bound_is_an_error(string header, string[] functions, string expected)
    {
        _tree.WriteHeader("fun.h", header);
        _tree.WriteRecipe("fun", "Fun", functions: functions);

        BindGenResult result = _tree.Generate();

        AssertCleanError(result);
        Assert.That(result.Error, Does.Contain(expected));
    }

    [Test]
    public void A_prefix_does_not_match_constants_of_included_headers()
    {
        _tree.WriteHeader("base.h", "#define INC_FROM_BASE 1\n");
        _tree.WriteHeader("inc.h", "#include \"base.h\"\n#define OWN_CONSTANT 2\n");
        _tree.WriteRecipe("inc", "Inc", constants: ["OWN_*", "INC_*"]);

        BindGenResult result = _tree.Generate();

        AssertCleanError(result);
        Assert.That(result.Error, Does.Contain("no macro or enumerator in inc.h starts with 'INC_'"));
    }

    [Test]
    public void An_unknown_target_is_an_error_that_lists_the_known_targets()
    {
        _tree.WriteHeader("tgt.h", "#define TGT_A 1\n");
        _tree.WriteRecipe("tgt", "Tgt", targets: ["riscv64-linux-gnu"], constants: ["TGT_A"]);

        BindGenResult result = _tree.Generate();

        AssertCleanError(result);
        Assert.That(result.Error, Does.Contain("unknown target 'riscv64-linux-gnu'"));
        Assert.That(result.Error, Does.Contain("x86_64-linux-gnu, aarch64-linux-gnu, x86_64-apple-darwin, arm64-apple-darwin"));
    }

    [Test]
    public void A_recipe_that_is_not_valid_json_is_an_error()
    {
        _tree.WriteHeader("json.h", "#define JSON_A 1\n");
        _tree.WriteRecipeText("json", "{ \"header\": \"json.h\", \"class\": \"Json\", \"targets\": [\"x86_64-linux-gnu\" }");

        BindGenResult result = _tree.Generate();

        AssertCleanError(result);
        Assert.That(result.Error, Does.Contain("json.recipe.json: not a valid recipe"));
    }

    [Test]
    public void A_recipe_with_an_unknown_key_is_an_error_naming_the_key()
    {
        _tree.WriteHeader("key.h", "#define KEY_A 1\n");
        _tree.WriteRecipeText("key", "{ \"header\": \"key.h\", \"class\": \"Key\", \"targets\": [\"x86_64-linux-gnu\"], \"constant\": [\"KEY_A\"] }");

        BindGenResult result = _tree.Generate();

        AssertCleanError(result);
        Assert.That(result.Error, Does.Contain("key.recipe.json: not a valid recipe"));
        Assert.That(result.Error, Does.Contain("'constant'"), "names the unknown key");
    }

    [Test]
    public void A_check_kernel_that_is_not_a_release_is_an_error_naming_it()
    {
        _tree.WriteHeader("kver.h", "#define KVER_A 1\n");
        _tree.WriteRecipeText("kver", "{ \"header\": \"kver.h\", \"class\": \"Kver\", \"targets\": [\"x86_64-linux-gnu\"], \"constants\": [\"KVER_A\"], " +
            "\"check\": { \"includes\": [\"linux/types.h\"], \"kernel\": \"6.18-rc1\" } }");

        BindGenResult result = _tree.Generate();

        AssertCleanError(result);
        Assert.That(result.Error, Does.Contain("check.kernel '6.18-rc1'"));
        Assert.That(result.Error, Does.Contain("MAJOR.MINOR"));
    }

    [Test]
    public void A_constant_of_pointer_type_is_an_error_naming_the_constant()
    {
        _tree.WriteHeader("ptr.h", "#define PTR_OK 1\n#define PTR_NULL ((void*)0)\n");
        _tree.WriteRecipe("ptr", "Ptr", constants: ["PTR_*"]);

        BindGenResult result = _tree.Generate();

        AssertCleanError(result);
        Assert.That(result.Error, Does.Contain("constant 'PTR_NULL'"));
        Assert.That(result.Error, Does.Contain("not an integer type"));
    }

    [Test]
    public void A_constant_that_is_not_a_constant_expression_is_an_error_naming_the_constant_and_its_line()
    {
        _tree.WriteHeader("dyn.h", "extern int dyn_counter;\n#define DYN_OK 1\n#define DYN_VARIABLE dyn_counter\n");
        _tree.WriteRecipe("dyn", "Dyn", constants: ["DYN_*"]);

        BindGenResult result = _tree.Generate();

        AssertCleanError(result);
        Assert.That(result.Error, Does.Contain("not integer constant expressions"));
        Assert.That(result.Error, Does.Contain("DYN_VARIABLE (declared at line 3)"));
        Assert.That(result.Error, Does.Not.Contain("DYN_OK"), "only the faulty constant is named");
    }

    [Test]
    public void A_plain_char_constant_whose_signedness_differs_per_target_is_an_error_naming_the_constant()
    {
        // char is signed on x86_64 (sbyte) and unsigned on Linux aarch64 (byte): no one C# type fits both.
        _tree.WriteHeader("chr.h", "#define X_OK 1\n#define X_A ((char)-1)\n");
        _tree.WriteRecipe("chr", "Chr", targets: [BindGenTree.X64, BindGenTree.Arm64], constants: ["X_*"]);

        BindGenResult result = _tree.Generate();

        AssertCleanError(result);
        Assert.That(result.Error, Does.Contain("chr.recipe.json: constant 'X_A' (C type char) maps to different C# types per target (x86_64-linux-gnu: sbyte, aarch64-linux-gnu: byte)"));
        Assert.That(result.Error, Does.Not.Contain("X_OK"), "only the faulty constant is named");
        Assert.That(Directory.Exists(_tree.OutputRoot), Is.False, "nothing is written");
    }

    [Test]
    public void Two_recipes_of_one_family_with_the_same_class_are_an_error_naming_both()
    {
        _tree.WriteHeader("first.h", "#define FIRST_A 1\n");
        _tree.WriteRecipe("first", "Same", constants: ["FIRST_*"]);
        _tree.WriteHeader("second.h", "#define SECOND_A 2\n");
        _tree.WriteRecipe("second", "Same", constants: ["SECOND_*"]);

        BindGenResult result = _tree.Generate();

        AssertCleanError(result);
        Assert.That(result.Error, Does.Contain("first.recipe.json"));
        Assert.That(result.Error, Does.Contain("second.recipe.json"));
        Assert.That(result.Error, Does.Contain("Linux/Same.cs"), "names the file both would write");
        Assert.That(Directory.Exists(_tree.OutputRoot), Is.False, "nothing is written");
    }

    [Test]
    public void A_record_named_like_its_recipe_class_is_an_error_naming_the_recipe()
    {
        _tree.WriteHeader("clash.h", "struct Clash { int a; };\n#define CLASH_A 1\n");
        _tree.WriteRecipe("clash", "Clash", records: ["Clash"], constants: ["CLASH_*"]);

        BindGenResult result = _tree.Generate();

        AssertCleanError(result);
        Assert.That(result.Error, Does.Contain("clash.recipe.json"));
        Assert.That(result.Error, Does.Contain("Linux/Clash.cs"), "names the file both would write");
        Assert.That(Directory.Exists(_tree.OutputRoot), Is.False, "nothing is written");
    }

    [Test]
    public void A_record_of_one_recipe_named_like_the_class_of_another_is_an_error_naming_both()
    {
        _tree.WriteHeader("holder.h", "struct Other { int a; };\n");
        _tree.WriteRecipe("holder", "Holder", records: ["Other"]);
        _tree.WriteHeader("other.h", "#define OTHER_A 1\n");
        _tree.WriteRecipe("other", "Other", constants: ["OTHER_*"]);

        BindGenResult result = _tree.Generate();

        AssertCleanError(result);
        Assert.That(result.Error, Does.Contain("holder.recipe.json"));
        Assert.That(result.Error, Does.Contain("other.recipe.json"));
        Assert.That(result.Error, Does.Contain("Linux/Other.cs"));
    }

    [Test]
    public void A_headers_folder_that_does_not_exist_is_an_error()
    {
        string missing = Path.Combine(_tree.Root, "no-such-folder");

        BindGenResult result = BindGenTree.Run("--headers", missing, "--out", _tree.OutputRoot);

        AssertCleanError(result);
        Assert.That(result.Error, Does.Contain($"headers folder '{missing}' does not exist"));
    }

    [Test]
    public void A_headers_folder_without_recipes_is_an_error()
    {
        _tree.WriteHeader("lonely.h", "#define LONELY 1\n");

        BindGenResult result = _tree.Generate();

        AssertCleanError(result);
        Assert.That(result.Error, Does.Contain("no *.recipe.json under"));
    }

    [Test]
    public void An_unknown_argument_exits_with_2_and_prints_the_usage()
    {
        BindGenResult result = BindGenTree.Run("--frobnicate");

        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.Error, Does.Contain("unknown or incomplete argument '--frobnicate'"));
        Assert.That(result.Error, Does.Contain("usage: Miniss.BindGen [--headers DIR] [--out DIR] [--verify]"));
        AssertNoStackTrace(result.Error);
    }

    [Test]
    public void An_option_without_its_value_exits_with_2_and_prints_the_usage()
    {
        BindGenResult result = BindGenTree.Run("--headers", _tree.HeadersRoot, "--out");

        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.Error, Does.Contain("unknown or incomplete argument '--out'"));
        Assert.That(result.Error, Does.Contain("usage:"));
    }

    [Test]
    public void A_failed_run_writes_nothing_to_the_output_folder()
    {
        _tree.WriteHeader("good.h", "#define GOOD_A 1\n");
        _tree.WriteRecipe("good", "Good", constants: ["GOOD_*"]);
        _tree.WriteHeader("bad.h", "#define BAD_A 1\n");
        _tree.WriteRecipe("bad", "Bad", constants: ["BAD_*", "MISSING_*"]);

        BindGenResult result = _tree.Generate();

        AssertCleanError(result);
        Assert.That(Directory.Exists(_tree.OutputRoot), Is.False, "nothing is written when any recipe fails");
    }

    /// <summary>Exit code 1, an error message, and no trace of an exception.</summary>
    internal static void AssertCleanError(BindGenResult result)
    {
        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
        Assert.That(result.Error, Does.StartWith("Miniss.BindGen: error: "), result.ToString());
        AssertNoStackTrace(result.Error);
    }

    internal static void AssertNoStackTrace(string error)
    {
        Assert.That(error, Does.Not.Match(@"(?m)^\s+at "), "no stack trace line");
        Assert.That(error, Does.Not.Contain("Exception:"), "no exception type name");
        Assert.That(error, Does.Not.Contain("Exception "), "no exception type name");
    }
}
