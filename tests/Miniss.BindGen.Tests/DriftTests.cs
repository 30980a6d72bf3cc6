using System.IO;
using NUnit.Framework;

namespace Miniss.BindGen.Tests;

/// <summary><c>--verify</c> fails on any difference between the output folder and a fresh generation.</summary>
[TestFixture]
public sealed class DriftTests
{
    private BindGenTree _tree = null!;

    [SetUp]
    public void SetUp()
    {
        // NUnit skips TearDown when SetUp fails: the tree is disposed here if generation does.
        _tree = new BindGenTree();
        try
        {
            _tree.WriteHeader(
                "drift.h",
                "struct first { int a; };\nstruct second { long b; };\n#define DRIFT_A 1\n#define DRIFT_B 2\n");
            _tree.WriteRecipe("drift", "Drift", records: ["first", "second"], constants: ["DRIFT_*"]);
            BindGenResult generated = _tree.Generate();
            Assert.That(generated.ExitCode, Is.Zero, generated.ToString());
            Assert.That(_tree.OutputFiles(), Is.EqualTo(new[] { "Linux/Drift.cs", "Linux/first.cs", "Linux/second.cs" }));
        }
        catch
        {
            _tree.Dispose();
            throw;
        }
    }

    [TearDown]
    public void TearDown() => _tree.Dispose();

    [Test]
    public void Verify_passes_right_after_generation()
    {
        BindGenResult result = _tree.Verify();

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.Output, Does.Contain("3 generated files"));
        Assert.That(result.Error, Is.Empty);
    }

    [Test]
    public void Verify_reports_an_edited_file_as_changed()
    {
        File.AppendAllText(_tree.OutputPath("Linux/first.cs"), "// edited by hand\n");

        BindGenResult result = _tree.Verify();

        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
        Assert.That(result.Error, Does.Contain("changed:  Linux/first.cs"));
        Assert.That(result.Error, Does.Contain("(1 files)"));
        ErrorReportingTests.AssertNoStackTrace(result.Error);
    }

    [Test]
    public void Verify_reports_a_stray_file_as_obsolete()
    {
        File.WriteAllText(_tree.OutputPath("Linux/stray.cs"), "// not generated\n");

        BindGenResult result = _tree.Verify();

        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
        Assert.That(result.Error, Does.Contain("obsolete: Linux/stray.cs"));
    }

    [Test]
    public void Verify_reports_a_deleted_file_as_missing()
    {
        File.Delete(_tree.OutputPath("Linux/second.cs"));

        BindGenResult result = _tree.Verify();

        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
        Assert.That(result.Error, Does.Contain("missing:  Linux/second.cs"));
    }

    [Test]
    public void Verify_lists_every_difference_at_once()
    {
        File.AppendAllText(_tree.OutputPath("Linux/first.cs"), "// edited by hand\n");
        File.Delete(_tree.OutputPath("Linux/second.cs"));
        Directory.CreateDirectory(_tree.OutputPath("Linux/X64"));
        File.WriteAllText(_tree.OutputPath("Linux/X64/stray.cs"), "// not generated\n");

        BindGenResult result = _tree.Verify();

        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
        Assert.That(result.Error, Does.Contain("(3 files)"));
        Assert.That(result.Error, Does.Contain("changed:  Linux/first.cs"));
        Assert.That(result.Error, Does.Contain("missing:  Linux/second.cs"));
        Assert.That(result.Error, Does.Contain("obsolete: Linux/X64/stray.cs"));
    }

    [Test]
    public void Verify_detects_a_header_change_that_was_not_regenerated()
    {
        _tree.WriteHeader("drift.h", "struct first { int a; };\nstruct second { long b; };\n#define DRIFT_A 1\n#define DRIFT_B 3\n");

        BindGenResult result = _tree.Verify();

        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
        Assert.That(result.Error, Does.Contain("changed:  Linux/Drift.cs"));
    }

    [Test]
    public void Verify_against_a_missing_output_folder_reports_every_file_missing()
    {
        Directory.Delete(_tree.OutputRoot, recursive: true);

        BindGenResult result = _tree.Verify();

        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
        Assert.That(result.Error, Does.Contain("(3 files)"));
        Assert.That(result.Error, Does.Contain("missing:  Linux/Drift.cs"));
    }

    [Test]
    public void Verify_writes_nothing()
    {
        File.Delete(_tree.OutputPath("Linux/second.cs"));
        File.WriteAllText(_tree.OutputPath("Linux/stray.cs"), "// not generated\n");

        BindGenResult result = _tree.Verify();

        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
        Assert.That(_tree.OutputFiles(), Is.EqualTo(new[] { "Linux/Drift.cs", "Linux/first.cs", "Linux/stray.cs" }));
    }

    [Test]
    public void Generation_removes_stale_generated_files()
    {
        File.WriteAllText(_tree.OutputPath("Linux/stray.cs"), "// not generated\n");

        Assert.That(_tree.Generate().ExitCode, Is.Zero);

        Assert.That(_tree.OutputFiles(), Is.EqualTo(new[] { "Linux/Drift.cs", "Linux/first.cs", "Linux/second.cs" }));
    }

    [Test]
    public void Generation_removes_an_architecture_folder_it_emptied()
    {
        string[] both = [BindGenTree.X64, BindGenTree.Arm64];
        _tree.WriteHeader("drift.h", "#if defined(__x86_64__)\n#define DRIFT_A 1\n#else\n#define DRIFT_A 2\n#endif\n");
        _tree.WriteRecipe("drift", "Drift", targets: both, constants: ["DRIFT_*"]);
        Assert.That(_tree.Generate().ExitCode, Is.Zero);
        Assert.That(_tree.OutputFiles(), Is.EqualTo(new[] { "Linux/Arm64/Drift.cs", "Linux/Drift.cs", "Linux/X64/Drift.cs" }));

        _tree.WriteHeader("drift.h", "#define DRIFT_A 1\n");
        BindGenResult result = _tree.Generate();

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(_tree.OutputFiles(), Is.EqualTo(new[] { "Linux/Drift.cs" }));
        Assert.That(Directory.Exists(_tree.OutputPath("Linux/X64")), Is.False, "the emptied X64 folder is removed");
        Assert.That(Directory.Exists(_tree.OutputPath("Linux/Arm64")), Is.False, "the emptied Arm64 folder is removed");
        Assert.That(_tree.Verify().ExitCode, Is.Zero);
    }

    [Test]
    public void Manual_files_are_kept_by_generation_and_ignored_by_verify()
    {
        const string manual = "// written by hand\npartial class Drift { }\n";
        File.WriteAllText(_tree.OutputPath("Linux/Drift.Manual.cs"), manual);
        Directory.CreateDirectory(_tree.OutputPath("Linux/X64"));
        File.WriteAllText(_tree.OutputPath("Linux/X64/Extra.Manual.cs"), manual);

        BindGenResult verified = _tree.Verify();
        BindGenResult generated = _tree.Generate();
        BindGenResult verifiedAgain = _tree.Verify();

        Assert.That(verified.ExitCode, Is.Zero, verified.ToString());
        Assert.That(generated.ExitCode, Is.Zero, generated.ToString());
        Assert.That(verifiedAgain.ExitCode, Is.Zero, verifiedAgain.ToString());
        Assert.That(_tree.Read("Linux/Drift.Manual.cs"), Is.EqualTo(manual));
        Assert.That(_tree.Read("Linux/X64/Extra.Manual.cs"), Is.EqualTo(manual));
    }
}
