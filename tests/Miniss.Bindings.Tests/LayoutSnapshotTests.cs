using System;
using System.IO;
using System.Text;
using NUnit.Framework;

namespace Miniss.Bindings.Tests;

/// <summary>
/// The layout of every generated record and the value of every constant, per target, compared with the committed
/// snapshot in <c>Snapshots/TRIPLE.txt</c>. A reviewer sees any ABI change as a diff there. After an intended
/// change, run the tests once with <c>MINISS_UPDATE_SNAPSHOTS=1</c> and commit the rewritten snapshots.
/// </summary>
[TestFixture]
public sealed class LayoutSnapshotTests
{
    private static readonly string s_folder = Path.Combine(Repository.Root, "tests", "Miniss.Bindings.Tests", "Snapshots");

    private static BindingTarget[] Targets() => BindingTarget.All;

    [TestCaseSource(nameof(Targets))]
    public void Layouts_and_constants_match_the_committed_snapshot(BindingTarget target)
    {
        string actual = Snapshot(target);
        string path = Path.Combine(s_folder, target.Triple + ".txt");
        if (Environment.GetEnvironmentVariable("MINISS_UPDATE_SNAPSHOTS") == "1")
        {
            File.WriteAllText(path, actual);
        }

        Assert.That(File.Exists(path), Is.True, $"no snapshot at {path}; run the tests with MINISS_UPDATE_SNAPSHOTS=1 to create it");
        Assert.That(actual, Is.EqualTo(File.ReadAllText(path)), $"the bindings for {target} differ from {path}");
    }

    [Test]
    public void Every_generated_record_has_the_size_clang_computed()
    {
        foreach (BindingTarget target in BindingTarget.All)
        {
            foreach (RecordLayout record in GeneratedBindings.Records(target))
            {
                Assert.That(GeneratedBindings.SizeOf(record.Type), Is.EqualTo(record.Size), $"{record.Type.FullName}: .NET's size differs from C's");
            }
        }
    }

    [Test]
    public void Every_target_has_records_and_constants()
    {
        foreach (BindingTarget target in BindingTarget.All)
        {
            Assert.That(GeneratedBindings.Records(target), Is.Not.Empty, target.Triple);
            Assert.That(GeneratedBindings.Constants(target), Is.Not.Empty, target.Triple);
        }
    }

    private static string Snapshot(BindingTarget target)
    {
        var s = new StringBuilder();
        s.Append("# Miniss.Bindings for ").Append(target.Triple).Append(": every record's size, alignment and members, every constant's value.\n");
        foreach (RecordLayout record in GeneratedBindings.Records(target))
        {
            s.Append('\n').Append(record.CName).Append("  size ").Append(record.Size).Append("  align ").Append(record.Alignment)
                .Append("  (").Append(record.Header).Append(")\n");
            foreach (FieldLayout field in record.Fields)
            {
                s.Append("  ").Append(field.Path).Append("  @").Append(field.Offset)
                    .Append(field.Size >= 0 ? $"  size {field.Size}" : "  flexible").Append("  ").Append(field.CType).Append('\n');
            }
        }

        s.Append('\n');
        foreach (ConstantValue constant in GeneratedBindings.Constants(target))
        {
            s.Append(constant.ClassName).Append('.').Append(constant.Name).Append(" = ").Append(constant.CLiteral).Append('\n');
        }

        return s.ToString();
    }
}
