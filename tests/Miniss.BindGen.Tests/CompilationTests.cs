using System;
using System.Reflection;
using Microsoft.CodeAnalysis.CSharp;
using NUnit.Framework;

namespace Miniss.BindGen.Tests;

/// <summary>Generated C# compiles as the bindings project builds it, and bitfield accessors behave as C does.</summary>
[TestFixture]
public sealed class CompilationTests
{
    private static readonly string[] s_both = [BindGenTree.X64, BindGenTree.Arm64];

    private BindGenTree _tree = null!;

    [SetUp]
    public void SetUp() => _tree = new BindGenTree();

    [TearDown]
    public void TearDown() => _tree.Dispose();

    [Test]
    public void A_fixed_array_named_after_a_CSharp_keyword_compiles()
    {
        string text = GenerateRecord("struct s { unsigned int fixed[2]; };\n", "s");

        Assert.That(text, Does.Contain("public fixed_e__FixedBuffer @fixed;"));
        Assert.That(text, Does.Contain("<see cref=\"@fixed\"/>"), "the doc comment names the escaped member");
        GeneratedCompilation.AssertCompiles(_tree);
    }

    [Test]
    public void Bitfields_of_different_widths_in_one_storage_unit_compile_and_keep_their_own_values()
    {
        GenerateRecord("struct mix { unsigned char a : 3; unsigned int b : 5; };\n", "mix");

        CSharpCompilation compilation = GeneratedCompilation.AssertCompiles(_tree);

        GeneratedCompilation.WithLoadedAssembly(compilation, assembly =>
        {
            Type mix = assembly.GetType("Miniss.Bindings.Linux.mix", throwOnError: true)!;
            PropertyInfo a = mix.GetProperty("a")!;
            PropertyInfo b = mix.GetProperty("b")!;
            object box = Activator.CreateInstance(mix)!;

            a.SetValue(box, (byte)5);
            b.SetValue(box, 17U);
            Assert.That(a.GetValue(box), Is.EqualTo((byte)5));
            Assert.That(b.GetValue(box), Is.EqualTo(17U));

            a.SetValue(box, (byte)2);
            Assert.That(a.GetValue(box), Is.EqualTo((byte)2));
            Assert.That(b.GetValue(box), Is.EqualTo(17U), "setting a leaves b alone");
        });
    }

    [Test]
    public void A_signed_bitfield_is_sign_extended_and_leaves_its_neighbour_alone()
    {
        string text = GenerateRecord("struct sb { int v : 3; unsigned int u : 5; };\n", "sb");
        Assert.That(text, Does.Contain("private uint _bitfield_0_4;"));

        CSharpCompilation compilation = GeneratedCompilation.AssertCompiles(_tree);

        GeneratedCompilation.WithLoadedAssembly(compilation, assembly =>
        {
            Type sb = assembly.GetType("Miniss.Bindings.Linux.sb", throwOnError: true)!;
            PropertyInfo v = sb.GetProperty("v")!;
            PropertyInfo u = sb.GetProperty("u")!;
            FieldInfo storage = sb.GetField("_bitfield_0_4", BindingFlags.Instance | BindingFlags.NonPublic)!;
            Assert.That(v.PropertyType, Is.EqualTo(typeof(int)));
            Assert.That(u.PropertyType, Is.EqualTo(typeof(uint)));
            object box = Activator.CreateInstance(sb)!;

            u.SetValue(box, 21U);
            foreach (int value in new[] { -1, 3, -4, 0, 1, -2 })
            {
                v.SetValue(box, value);
                Assert.That(v.GetValue(box), Is.EqualTo(value), $"v = {value} reads back");
                Assert.That(u.GetValue(box), Is.EqualTo(21U), $"u is unchanged by v = {value}");
            }

            v.SetValue(box, -4);
            Assert.That(storage.GetValue(box), Is.EqualTo((21U << 3) | 0b100U), "v in bits 0..2, u in bits 3..7, as C lays them out");

            storage.SetValue(box, (31U << 3) | 0b101U);
            Assert.That(v.GetValue(box), Is.EqualTo(-3), "0b101 in a 3-bit signed field is -3");
            Assert.That(u.GetValue(box), Is.EqualTo(31U));
        });
    }

    /// <summary>Generates <c>rec.h</c> holding <paramref name="declarations"/> for both Linux targets; returns the record's file.</summary>
    private string GenerateRecord(string declarations, string record)
    {
        _tree.WriteHeader("rec.h", declarations);
        _tree.WriteRecipe("rec", "Rec", targets: s_both, records: [record]);
        BindGenResult result = _tree.Generate();
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(_tree.OutputFiles(), Is.EqualTo(new[] { $"Linux/{record}.cs" }));
        return _tree.Read($"Linux/{record}.cs");
    }
}
