using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;

namespace Miniss.Bindings.Tests;

/// <summary>
/// Every generated record and constant, compiled as <c>_Static_assert</c>s: on linux-x64 against the machine's real
/// system headers with its C compiler, on the other targets against native-headers with <c>clang -target</c>.
/// </summary>
[TestFixture]
public sealed class LayoutCheckTests
{
    private static readonly BindingTarget s_host = BindingTarget.All[0];

    private static IEnumerable<TestCaseData> HostRecipes() =>
        GeneratedBindings.Recipes().Where(r => r.Targets.Contains(s_host.Triple)).Select(r => new TestCaseData(r).SetArgDisplayNames(r.ToString()));

    private static IEnumerable<TestCaseData> CrossTargetRecipes() =>
        from target in BindingTarget.All
        from recipe in GeneratedBindings.Recipes()
        where recipe.Targets.Contains(target.Triple)
        select new TestCaseData(target, recipe).SetArgDisplayNames(target.Triple, recipe.ToString());

    [TestCaseSource(nameof(HostRecipes))]
    public void Linux_x64_layouts_and_constants_match_the_system_headers(RecipeInfo recipe)
    {
        (List<RecordLayout> records, List<ConstantValue> constants) = Of(s_host, recipe);
        if (records.Count + constants.Count > 0)
        {
            Assert.That(recipe.CheckIncludes, Is.Not.Empty, $"{recipe} emits records or constants but names no system headers to check them against");
        }

        (int exit, string output, KernelHeaders headers) = HostCheck(recipe, records, constants);
        Assert.That(exit, Is.Zero, $"the system C compiler, with {headers.Description}, disagrees with the generated bindings of {recipe}:\n{output}");
    }

    [TestCaseSource(nameof(CrossTargetRecipes))]
    public void Layouts_and_constants_match_clang_for_the_target(BindingTarget target, RecipeInfo recipe)
    {
        (List<RecordLayout> records, List<ConstantValue> constants) = Of(target, recipe);
        string source = CLayoutCheck.Source([], [$"#include \"{recipe.Header}\""], records, constants);
        (int exit, string output) = CLayoutCheck.Compile(CLayoutCheck.Clang(), ["-target", target.Triple, "-nostdinc", "-I", target.HeadersFolder], source);
        Assert.That(exit, Is.Zero, $"clang -target {target} disagrees with the generated bindings of {recipe}:\n{output}");
    }

    [Test]
    public void Every_generated_record_and_constant_belongs_to_a_checked_recipe()
    {
        foreach (BindingTarget target in BindingTarget.All)
        {
            var headers = GeneratedBindings.Recipes().Where(r => r.Family == target.Family).Select(r => r.Header).ToHashSet();
            foreach (RecordLayout record in GeneratedBindings.Records(target))
            {
                Assert.That(headers, Does.Contain(record.Header), $"{record.CName} ({target}) comes from {record.Header}, which no recipe checks");
            }

            foreach (ConstantValue constant in GeneratedBindings.Constants(target))
            {
                Assert.That(headers, Does.Contain(constant.Header), $"{constant.Name} ({target}) comes from {constant.Header}, which no recipe checks");
            }
        }
    }

    [Test]
    public void A_wrong_record_size_fails_the_check()
    {
        RecipeInfo recipe = GeneratedBindings.Recipes().Single(r => r.Family == "Linux" && r.Header == "io_uring.h");
        (List<RecordLayout> records, List<ConstantValue> constants) = Of(s_host, recipe);
        RecordLayout sqe = records.Single(r => r.CName == "struct io_uring_sqe");
        records[records.IndexOf(sqe)] = sqe with { Size = sqe.Size + 1 };

        (int exit, string output, _) = HostCheck(recipe, records, constants);

        Assert.That(exit, Is.Not.Zero);
        Assert.That(output, Does.Contain("sizeof(struct io_uring_sqe)"));
    }

    [Test]
    public void A_wrong_field_offset_or_constant_fails_the_check()
    {
        RecipeInfo recipe = GeneratedBindings.Recipes().Single(r => r.Family == "Linux" && r.Header == "io_uring.h");
        (List<RecordLayout> records, List<ConstantValue> constants) = Of(s_host, recipe);
        RecordLayout sqe = records.Single(r => r.CName == "struct io_uring_sqe");
        var fields = sqe.Fields.Select(f => f.Path == "user_data" ? f with { Offset = f.Offset + 8 } : f).ToList();
        records[records.IndexOf(sqe)] = sqe with { Fields = fields };
        ConstantValue select = constants.Single(c => c.Name == "IOSQE_BUFFER_SELECT");
        constants[constants.IndexOf(select)] = select with { Value = (uint)select.Value << 1 };

        (int exit, string output, _) = HostCheck(recipe, records, constants);

        Assert.That(exit, Is.Not.Zero);
        Assert.That(output, Does.Contain("offsetof(struct io_uring_sqe, user_data)"));
        Assert.That(output, Does.Contain("IoUring.IOSQE_BUFFER_SELECT"));
    }

    [Test]
    public void The_io_uring_bindings_state_the_long_term_kernel_they_claim()
    {
        RecipeInfo recipe = GeneratedBindings.Recipes().Single(r => r.Family == "Linux" && r.Header == "io_uring.h");
        Assert.That(recipe.CheckKernel, Is.EqualTo("6.18"), "native-headers/linux/io_uring.h and its recipe name the release they state");

        // Linux 6.18's last operation is IORING_OP_PIPE (62): every operation that kernel reports has a name.
        (_, List<ConstantValue> constants) = Of(s_host, recipe);
        Assert.That(Convert.ToInt64(constants.Single(c => c.Name == "IORING_OP_PIPE").Value, System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(62));
        Assert.That(Convert.ToInt64(constants.Single(c => c.Name == "IORING_OP_LAST").Value, System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(63));
    }

    [Test]
    public void A_count_is_checked_exactly_unless_the_headers_are_newer_than_the_stated_release()
    {
        RecipeInfo recipe = GeneratedBindings.Recipes().Single(r => r.Family == "Linux" && r.Header == "io_uring.h");
        (_, List<ConstantValue> constants) = Of(s_host, recipe);
        ConstantValue last = constants.Single(c => c.Name == "IORING_OP_LAST");
        ConstantValue tooHigh = last with { Value = 200 };

        string exact = CLayoutCheck.Source([], ["#define IORING_OP_LAST 63"], [], [tooHigh]);
        string bound = CLayoutCheck.Source([], ["#define IORING_OP_LAST 63"], [], [last with { Value = 60 }], c => c.Name.EndsWith("_LAST", StringComparison.Ordinal));

        Assert.That(CLayoutCheck.Compile(CLayoutCheck.SystemCompiler(), [], exact).ExitCode, Is.Not.Zero, "an exact check of a wrong count fails");
        Assert.That(CLayoutCheck.Compile(CLayoutCheck.SystemCompiler(), [], bound).ExitCode, Is.Zero, "a count below the headers' passes as a lower bound");
    }

    /// <summary>
    /// Compiles the checks of one recipe on the build machine's own target, against the kernel headers the recipe needs
    /// (<see cref="KernelHeaders.For"/>).
    /// </summary>
    private static (int ExitCode, string Output, KernelHeaders Headers) HostCheck(RecipeInfo recipe, List<RecordLayout> records, List<ConstantValue> constants)
    {
        KernelHeaders headers = KernelHeaders.For(recipe.CheckKernel);
        bool newer = recipe.CheckKernel is not null && (headers.VersionCode & ~0xff) > KernelHeaders.ParseRelease(recipe.CheckKernel);
        Func<ConstantValue, bool>? lowerBound = newer ? c => c.Name.EndsWith("_LAST", StringComparison.Ordinal) : null;
        string source = CLayoutCheck.Source(recipe.CheckDefines, recipe.CheckIncludes.Select(i => $"#include <{i}>"), records, constants, lowerBound);
        (int exit, string output) = CLayoutCheck.Compile(CLayoutCheck.SystemCompiler(), headers.CompilerArguments("x86_64-linux-gnu"), source);
        return (exit, output, headers);
    }

    private static (List<RecordLayout> Records, List<ConstantValue> Constants) Of(BindingTarget target, RecipeInfo recipe) =>
        (GeneratedBindings.Records(target).Where(r => r.Header == recipe.Header && recipe.Family == target.Family).ToList(),
         GeneratedBindings.Constants(target).Where(c => c.Header == recipe.Header && recipe.Family == target.Family).ToList());
}
