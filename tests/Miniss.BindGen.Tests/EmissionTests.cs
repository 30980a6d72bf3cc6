using System.IO;
using NUnit.Framework;
using static Miniss.BindGen.Tests.GeneratedCode;

namespace Miniss.BindGen.Tests;

/// <summary>What BindGen writes for each C feature, read back from the generated C# text.</summary>
[TestFixture]
public sealed class EmissionTests
{
    private const string Types = "typedef unsigned char u8;\ntypedef unsigned short u16;\ntypedef unsigned int u32;\ntypedef unsigned long long u64;\n";

    private static readonly string[] s_both = [BindGenTree.X64, BindGenTree.Arm64];

    private BindGenTree _tree = null!;

    [SetUp]
    public void SetUp() => _tree = new BindGenTree();

    [TearDown]
    public void TearDown() => _tree.Dispose();

    [Test]
    public void A_union_becomes_an_explicit_layout_with_every_member_at_offset_zero()
    {
        string text = GenerateRecord("union value { u32 small; u64 large; u8 bytes[8]; };\n", "value");

        Assert.That(text, Does.Contain("[NativeTypeName(\"union value\")]"));
        Assert.That(text, Does.Contain("[StructLayout(LayoutKind.Explicit, Size = 8)]"));
        Assert.That(text, Does.Contain("public unsafe partial struct value"));
        Assert.That(OffsetOf(text, "small"), Is.Zero);
        Assert.That(OffsetOf(text, "large"), Is.Zero);
        Assert.That(OffsetOf(text, "bytes"), Is.Zero);
        Assert.That(AllOffsets(text), Is.All.Zero);
    }

    [Test]
    public void Nested_anonymous_structs_and_unions_are_flattened_with_absolute_offsets()
    {
        string text = GenerateRecord(
            "struct outer {\n" +
            "    u32 head;\n" +
            "    union { u32 as_u32; u64 as_u64; };\n" +
            "    struct { u16 lo; u16 hi; };\n" +
            "    struct { u32 pad; union { u32 deep_a; u16 deep_b; }; };\n" +
            "};\n",
            "outer");

        Assert.That(text, Does.Contain("[StructLayout(LayoutKind.Explicit, Size = 32)]"));
        Assert.That(OffsetOf(text, "head"), Is.EqualTo(0));
        Assert.That(OffsetOf(text, "as_u32"), Is.EqualTo(8));
        Assert.That(OffsetOf(text, "as_u64"), Is.EqualTo(8));
        Assert.That(OffsetOf(text, "lo"), Is.EqualTo(16));
        Assert.That(OffsetOf(text, "hi"), Is.EqualTo(18));
        Assert.That(OffsetOf(text, "pad"), Is.EqualTo(20));
        Assert.That(OffsetOf(text, "deep_a"), Is.EqualTo(24), "second-level anonymous members keep absolute offsets");
        Assert.That(OffsetOf(text, "deep_b"), Is.EqualTo(OffsetOf(text, "deep_a")));
        Assert.That(Count(text, "partial struct"), Is.EqualTo(1), "no nested types for anonymous members");
    }

    [Test]
    public void A_named_member_of_an_unnamed_struct_type_becomes_a_nested_type()
    {
        string text = GenerateRecord(
            "struct holder {\n" +
            "    u32 id;\n" +
            "    struct { u32 first; u32 second; } pair;\n" +
            "    union { u32 whole; u16 half; } number;\n" +
            "};\n",
            "holder");

        Assert.That(OffsetOf(text, "pair"), Is.EqualTo(4));
        Assert.That(text, Does.Contain("public _pair_e__Struct pair;"));
        Assert.That(text, Does.Contain("    public unsafe partial struct _pair_e__Struct\n"));
        Assert.That(OffsetOf(text, "first"), Is.EqualTo(0), "members of the nested type are relative to it");
        Assert.That(OffsetOf(text, "second"), Is.EqualTo(4));
        Assert.That(OffsetOf(text, "number"), Is.EqualTo(12));
        Assert.That(text, Does.Contain("public _number_e__Union number;"));
        Assert.That(text, Does.Contain("    public unsafe partial struct _number_e__Union\n"));
        Assert.That(OffsetOf(text, "whole"), Is.EqualTo(0));
        Assert.That(OffsetOf(text, "half"), Is.EqualTo(0));
    }

    [Test]
    public void A_fixed_array_becomes_an_inline_array_nested_type()
    {
        string text = GenerateRecord("struct buffer { u32 length; u8 data[16]; u32 grid[2][3]; };\n", "buffer");

        Assert.That(text, Does.Contain("using System.Runtime.CompilerServices;"));
        Assert.That(OffsetOf(text, "data"), Is.EqualTo(4));
        Assert.That(text, Does.Contain("public data_e__FixedBuffer data;"));
        Assert.That(text, Does.Contain("    [InlineArray(16)]\n    public partial struct data_e__FixedBuffer\n    {\n"));
        Assert.That(text, Does.Contain("public byte e0;"));
        Assert.That(OffsetOf(text, "grid"), Is.EqualTo(20));
        Assert.That(text, Does.Contain("    [InlineArray(6)]\n    public partial struct grid_e__FixedBuffer\n"), "a 2-D array is flattened");
        Assert.That(text, Does.Contain("public uint e0;"));
    }

    [Test]
    public void A_flexible_array_member_becomes_an_address_accessor()
    {
        string text = GenerateRecord("struct message { u32 count; u32 flags; u64 entries[]; };\n", "message");

        Assert.That(text, Does.Contain("[StructLayout(LayoutKind.Explicit, Size = 8)]"), "the flexible member takes no storage");
        Assert.That(text, Does.Contain("[NativeFlexibleArray(\"entries\", 8)]"));
        Assert.That(text, Does.Contain("public static ulong* entries(message* self) => (ulong*)((byte*)self + 8);"));
        Assert.That(text, Does.Not.Contain("entries;"), "no data member for the flexible array");
    }

    [Test]
    public void A_zero_length_array_member_is_treated_as_a_flexible_array_member()
    {
        string text = GenerateRecord("struct legacy { u32 count; u32 tail[0]; };\n", "legacy");

        Assert.That(text, Does.Contain("[NativeFlexibleArray(\"tail\", 4)]"));
        Assert.That(text, Does.Contain("public static uint* tail(legacy* self)"));
    }

    [Test]
    public void A_packed_struct_gets_its_packed_size_and_Pack_1()
    {
        string text = GenerateRecord("struct __attribute__((packed)) packed_pair { u32 small; u64 large; };\n", "packed_pair");

        Assert.That(text, Does.Contain("[NativeLayout(12, 1)]"));
        Assert.That(text, Does.Contain("[StructLayout(LayoutKind.Explicit, Size = 12, Pack = 1)]"));
        Assert.That(OffsetOf(text, "large"), Is.EqualTo(4));
    }

    [Test]
    public void An_unpacked_struct_has_no_Pack()
    {
        string text = GenerateRecord("struct plain_pair { u32 small; u64 large; };\n", "plain_pair");

        Assert.That(text, Does.Contain("[StructLayout(LayoutKind.Explicit, Size = 16)]"));
        Assert.That(text, Does.Not.Contain("Pack ="));
        Assert.That(OffsetOf(text, "large"), Is.EqualTo(8));
    }

    [Test]
    public void A_bitfield_becomes_a_property_over_a_storage_field()
    {
        string text = GenerateRecord("struct flags { u32 mode : 3; u32 kind : 5; u32 rest; };\n", "flags");

        Assert.That(text, Does.Contain("    [FieldOffset(0)]\n    private uint _bitfield_0_4;\n"));
        Assert.That(Count(text, "private uint _bitfield_0_4;"), Is.EqualTo(1), "bitfields of one unit share its storage");
        Assert.That(text, Does.Contain("    public uint mode\n    {\n"));
        Assert.That(text, Does.Contain("readonly get => unchecked((uint)(((ulong)_bitfield_0_4 >> 0) & 0x7UL));"));
        Assert.That(text, Does.Contain("    public uint kind\n    {\n"));
        Assert.That(text, Does.Contain("readonly get => unchecked((uint)(((ulong)_bitfield_0_4 >> 3) & 0x1FUL));"));
        Assert.That(text, Does.Contain("set => _bitfield_0_4 = unchecked((uint)(((ulong)_bitfield_0_4 & ~(0x1FUL << 3)) | (((ulong)value & 0x1FUL) << 3)));"));
        Assert.That(text, Does.Not.Contain("public uint mode;"));
        Assert.That(OffsetOf(text, "rest"), Is.EqualTo(4));
    }

    [TestCase("(1U << 31)", "unsigned int", "public const uint TOP_BIT = 0x80000000U;")]
    [TestCase("-100", "int", "public const int TOP_BIT = -100;")]
    [TestCase("0x10000000ULL", "unsigned long long", "public const ulong TOP_BIT = 0x10000000UL;")]
    [TestCase("(-1L)", "long", "public const long TOP_BIT = -1L;")]
    [TestCase("((unsigned short)65535)", "unsigned short", "public const ushort TOP_BIT = 0xFFFF;")]
    public void A_macro_constant_is_typed_by_clang_and_keeps_its_C_name(string expression, string cType, string declaration)
    {
        _tree.WriteHeader("consts.h", $"#define TOP_BIT {expression}\n");
        _tree.WriteRecipe("consts", "Consts", targets: s_both, constants: ["TOP_BIT"]);

        string text = GenerateAndRead("Linux/Consts.cs");

        Assert.That(text, Does.Contain($"    [NativeTypeName(\"{cType}\")]\n    {declaration}\n"));
    }

    [Test]
    public void A_plain_char_constant_keeps_the_signedness_of_char_on_its_only_target()
    {
        _tree.WriteHeader("chr.h", "#define X_A ((char)-1)\n");
        _tree.WriteRecipe("chr", "Chr", targets: [BindGenTree.X64], constants: ["X_A"]);

        string text = GenerateAndRead("Linux/Chr.cs");

        Assert.That(text, Does.Contain("    [NativeTypeName(\"char\")]\n    public const sbyte X_A = -1;\n"), "char is signed on x86_64");
    }

    [Test]
    public void Enumerators_become_constants_of_the_enum_integer_type()
    {
        _tree.WriteHeader("modes.h", "enum mode { MODE_READ = 1, MODE_BACK = -2 };\nenum big { MODE_HUGE = 0x100000000ULL };\n");
        _tree.WriteRecipe("modes", "Modes", constants: ["MODE_*"]);

        string text = GenerateAndRead("Linux/Modes.cs");

        Assert.That(text, Does.Contain("<c>MODE_READ</c> (enumerator"));
        Assert.That(text, Does.Contain("public const int MODE_READ = 1;"));
        Assert.That(text, Does.Contain("public const int MODE_BACK = -2;"));
        Assert.That(text, Does.Contain("public const ulong MODE_HUGE = 0x100000000UL;"));
    }

    [Test]
    public void A_constant_that_differs_per_architecture_gets_a_const_per_architecture_and_a_selector()
    {
        _tree.WriteHeader(
            "arch.h",
            "#define ARCH_SAME 7\n" +
            "#if defined(__x86_64__)\n#define ARCH_VALUE 1\n#elif defined(__aarch64__)\n#define ARCH_VALUE 2\n#else\n#error unknown\n#endif\n");
        _tree.WriteRecipe("arch", "Arch", targets: s_both, constants: ["ARCH_*"]);

        Assert.That(_tree.Generate().ExitCode, Is.Zero);

        string x64 = _tree.Read("Linux/X64/Arch.cs");
        Assert.That(x64, Does.Contain("namespace Miniss.Bindings.Linux.X64;"));
        Assert.That(x64, Does.Contain("public const int ARCH_VALUE = 1;"));
        Assert.That(x64, Does.Not.Contain("ARCH_SAME"));
        string arm64 = _tree.Read("Linux/Arm64/Arch.cs");
        Assert.That(arm64, Does.Contain("namespace Miniss.Bindings.Linux.Arm64;"));
        Assert.That(arm64, Does.Contain("public const int ARCH_VALUE = 2;"));
        string family = _tree.Read("Linux/Arch.cs");
        Assert.That(family, Does.Contain("namespace Miniss.Bindings.Linux;"));
        Assert.That(family, Does.Contain("public const int ARCH_SAME = 7;"));
        Assert.That(family, Does.Contain(
            "public static readonly int ARCH_VALUE = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == " +
            "System.Runtime.InteropServices.Architecture.X64 ? X64.Arch.ARCH_VALUE : Arm64.Arch.ARCH_VALUE;"));
    }

    [Test]
    public void A_record_whose_layout_differs_goes_to_the_architecture_folders_and_one_that_is_the_same_to_the_family()
    {
        _tree.WriteHeader(
            "lay.h",
            Types +
            "struct same { u32 a; u64 b; };\n" +
            "#if defined(__x86_64__)\nstruct differs { u64 a; };\n#elif defined(__aarch64__)\nstruct differs { u64 a; u32 b; };\n#else\n#error unknown\n#endif\n" +
            "struct embeds { u32 tag; struct differs inner; };\n");
        _tree.WriteRecipe("lay", "Lay", targets: s_both, records: ["same", "differs", "embeds"]);

        Assert.That(_tree.Generate().ExitCode, Is.Zero);

        Assert.That(_tree.OutputFiles(), Is.EqualTo(new[]
        {
            "Linux/Arm64/differs.cs",
            "Linux/Arm64/embeds.cs",
            "Linux/X64/differs.cs",
            "Linux/X64/embeds.cs",
            "Linux/same.cs",
        }), "a record embedding a per-architecture record is per-architecture too");
        Assert.That(_tree.Read("Linux/X64/differs.cs"), Does.Contain("namespace Miniss.Bindings.Linux.X64;"));
        Assert.That(_tree.Read("Linux/X64/differs.cs"), Does.Contain("[StructLayout(LayoutKind.Explicit, Size = 8)]"));
        Assert.That(_tree.Read("Linux/Arm64/differs.cs"), Does.Contain("namespace Miniss.Bindings.Linux.Arm64;"));
        Assert.That(_tree.Read("Linux/Arm64/differs.cs"), Does.Contain("[StructLayout(LayoutKind.Explicit, Size = 16)]"));
        Assert.That(_tree.Read("Linux/same.cs"), Does.Contain("namespace Miniss.Bindings.Linux;"));
    }

    [Test]
    public void A_function_becomes_a_LibraryImport_from_libc_with_mapped_parameter_types()
    {
        _tree.WriteHeader(
            "fns.h",
            "typedef unsigned long size_t;\ntypedef long ssize_t;\n" +
            "struct iov { void *base; size_t len; };\n" +
            "ssize_t my_read(int fd, void *buf, size_t count);\n" +
            "int my_readv(int fd, const struct iov *vec, int count, const char *label);\n" +
            "void my_nothing(void);\n");
        _tree.WriteRecipe("fns", "Fns", targets: s_both, records: ["iov"], functions: ["my_read", "my_readv", "my_nothing"]);

        string text = GenerateAndRead("Linux/Fns.cs");

        Assert.That(text, Does.Contain("using System.Runtime.InteropServices;"));
        Assert.That(text, Does.Contain("public static unsafe partial class Fns"));
        Assert.That(text, Does.Contain(
            "    [LibraryImport(\"libc.so.6\", SetLastError = true)]\n" +
            "    public static partial nint my_read(int fd, [NativeTypeName(\"void *\")] void* buf, [NativeTypeName(\"size_t\")] nuint count);\n"));
        Assert.That(text, Does.Contain(
            "    public static partial int my_readv(int fd, [NativeTypeName(\"const struct iov *\")] iov* vec, int count, " +
            "[NativeTypeName(\"const char *\")] byte* label);\n"));
        Assert.That(text, Does.Contain("    public static partial void my_nothing();\n"));
        Assert.That(Count(text, "[LibraryImport(\"libc.so.6\", SetLastError = true)]"), Is.EqualTo(3));
    }

    [Test]
    public void A_pointer_to_a_record_that_is_not_emitted_becomes_void_pointer()
    {
        _tree.WriteHeader("opaque.h", "struct hidden { int a; };\nint use_hidden(struct hidden *h);\n");
        _tree.WriteRecipe("opaque", "Opaque", functions: ["use_hidden"]);

        string text = GenerateAndRead("Linux/Opaque.cs");

        Assert.That(text, Does.Contain("public static partial int use_hidden([NativeTypeName(\"struct hidden *\")] void* h);"));
    }

    [Test]
    public void A_Darwin_function_binds_from_libSystem()
    {
        _tree.WriteHeader("dar.h", "int dar_close(int fd);\n", folder: "darwin");
        _tree.WriteRecipe("dar", "Dar", targets: ["x86_64-apple-darwin", "arm64-apple-darwin"], functions: ["dar_close"], folder: "darwin");

        string text = GenerateAndRead("Darwin/Dar.cs");

        Assert.That(text, Does.Contain("namespace Miniss.Bindings.Darwin;"));
        Assert.That(text, Does.Contain("[LibraryImport(\"/usr/lib/libSystem.B.dylib\", SetLastError = true)]"));
    }

    [Test]
    public void Every_generated_file_starts_with_the_provenance_header_naming_the_header_and_targets()
    {
        _tree.WriteHeader(
            "prov.h",
            Types + "struct common { u32 a; };\n" +
            "#if defined(__x86_64__)\n#define PROV_ARCH 1\n#else\n#define PROV_ARCH 2\n#endif\n");
        _tree.WriteRecipe("prov", "Prov", targets: s_both, records: ["common"], constants: ["PROV_*"]);

        Assert.That(_tree.Generate().ExitCode, Is.Zero);

        Assert.That(_tree.OutputFiles(), Is.EqualTo(new[] { "Linux/Arm64/Prov.cs", "Linux/Prov.cs", "Linux/X64/Prov.cs", "Linux/common.cs" }));
        foreach ((string file, string targets) in new[]
        {
            ("Linux/common.cs", "x86_64-linux-gnu, aarch64-linux-gnu"),
            ("Linux/Prov.cs", "x86_64-linux-gnu, aarch64-linux-gnu"),
            ("Linux/X64/Prov.cs", "x86_64-linux-gnu"),
            ("Linux/Arm64/Prov.cs", "aarch64-linux-gnu"),
        })
        {
            Assert.That(_tree.Read(file), Does.StartWith(
                "// <auto-generated>\n" +
                $"//   Generated by Miniss.BindGen from native-headers/linux/prov.h for {targets}.\n" +
                "//   Do not edit: change the header or its recipe and run `dotnet cake --target=Generate`.\n" +
                "// </auto-generated>\n"), file);
        }
    }

    [Test]
    public void Generation_is_reproducible_and_free_of_machine_paths()
    {
        using var other = new BindGenTree();
        foreach (BindGenTree tree in new[] { _tree, other })
        {
            tree.WriteHeader("base.h", Types);
            tree.WriteHeader(
                "all.h",
                "#include \"base.h\"\n" +
                "union all_value { u32 small; u64 large; };\n" +
                "struct all_rec { u32 head; union { u32 x; u64 y; }; struct { u16 a; u16 b; } pair; u8 data[4]; u32 bits : 3; u64 tail[]; };\n" +
                "#if defined(__x86_64__)\n#define ALL_ARCH 1\n#else\n#define ALL_ARCH 2\n#endif\n" +
                "#define ALL_TOP (1U << 31)\n" +
                "int all_call(struct all_rec *rec, const char *name);\n");
            tree.WriteRecipe("all", "All", targets: s_both, records: ["all_value", "all_rec"], constants: ["ALL_*"], functions: ["all_call"]);
        }

        string second = Path.Combine(_tree.Root, "second");
        Assert.That(_tree.Generate().ExitCode, Is.Zero);
        Assert.That(_tree.Generate(second).ExitCode, Is.Zero);
        Assert.That(other.Generate().ExitCode, Is.Zero);

        Assert.That(_tree.OutputFiles(second), Is.EqualTo(_tree.OutputFiles()));
        Assert.That(other.OutputFiles(), Is.EqualTo(_tree.OutputFiles()));
        foreach (string file in _tree.OutputFiles())
        {
            byte[] bytes = File.ReadAllBytes(_tree.OutputPath(file));
            Assert.That(File.ReadAllBytes(Path.Combine(second, file)), Is.EqualTo(bytes), $"{file}: second run differs");
            Assert.That(File.ReadAllBytes(other.OutputPath(file)), Is.EqualTo(bytes), $"{file}: differs when generated from another folder");
            string text = _tree.Read(file);
            Assert.That(text, Does.Not.Contain(_tree.Root), file);
            Assert.That(text, Does.Not.Contain(Path.GetTempPath()), file);
            Assert.That(text, Does.Not.Contain("\r"), $"{file}: line endings are \\n on every machine");
        }
    }

    [Test]
    public void Unnamed_types_are_spelled_without_the_path_of_their_header()
    {
        _tree.WriteHeader(
            "anon.h",
            "struct s { enum { E_A } kind; struct { int a; } *p; };\n" +
            "#pragma clang diagnostic ignored \"-Wvisibility\"\n" +
            "int anon_set(struct s *target, enum { MODE_A, MODE_B } mode);\n" +
            "enum { R_A } anon_get(void);\n");
        _tree.WriteRecipe("anon", "Anon", targets: s_both, records: ["s"], functions: ["anon_set", "anon_get"]);

        BindGenResult result = _tree.Generate();

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(_tree.OutputFiles(), Is.EqualTo(new[] { "Linux/Anon.cs", "Linux/s.cs" }));
        string record = _tree.Read("Linux/s.cs");
        Assert.That(record, Does.Contain("[NativeTypeName(\"enum (unnamed)\")]\n    public uint kind;"));
        Assert.That(record, Does.Contain("[NativeTypeName(\"struct (unnamed) *\")]\n    public void* p;"));
        string functions = _tree.Read("Linux/Anon.cs");
        Assert.That(functions, Does.Contain("[NativeTypeName(\"enum (unnamed)\")] uint mode);"));
        Assert.That(functions, Does.Contain("<c>int anon_set(struct s * target, enum (unnamed) mode)</c>"));
        Assert.That(functions, Does.Contain("<c>enum (unnamed) anon_get()</c>"));
        foreach (string file in _tree.OutputFiles())
        {
            string text = _tree.Read(file);
            Assert.That(text, Does.Not.Contain(_tree.Root), file);
            Assert.That(text, Does.Not.Contain(Path.GetTempPath()), file);
            Assert.That(text, Does.Not.Contain("anon.h:"), $"{file}: no header position");
        }
    }

    /// <summary>Generates <c>rec.h</c> holding <paramref name="declarations"/> for both Linux targets; returns the record's file.</summary>
    private string GenerateRecord(string declarations, string record)
    {
        _tree.WriteHeader("rec.h", Types + declarations);
        _tree.WriteRecipe("rec", "Rec", targets: s_both, records: [record]);
        return GenerateAndRead($"Linux/{record}.cs");
    }

    private string GenerateAndRead(string file)
    {
        BindGenResult result = _tree.Generate();
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        return _tree.Read(file);
    }
}
