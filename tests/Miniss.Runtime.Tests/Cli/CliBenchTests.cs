using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.Cli;

/// <summary>
/// <c>miniss bench</c> under a signal and a full disk: SIGTERM ends a run within seconds with its temporary file gone;
/// too little room is refused before the run; a disk that fills during it ends the run in one line, exit code 1.
/// </summary>
[TestFixture]
[Platform("Linux")]
[NonParallelizable]
public sealed class CliBenchTests
{
    private string _folder = null!;
    private bool _mounted;

    [SetUp]
    public void MakeATemporaryFolder() => _folder = Directory.CreateTempSubdirectory("miniss-bench-tmp-").FullName;

    [TearDown]
    public void RemoveIt()
    {
        if (_mounted)
        {
            Command("umount", ["-l", _folder]);
            _mounted = false;
        }

        Directory.Delete(_folder, recursive: true);
    }

    [Test]
    public void SIGTERM_mid_run_stops_bench_within_seconds_and_removes_its_temporary_file()
    {
        using MinissProcess bench = MinissProcess.Start(["bench", "--duration", "60", "--file-size", "8", "--connections", "4"],
            environment: new Dictionary<string, string> { ["TMPDIR"] = _folder });
        bench.WaitForError("file read 4 KiB, Miniss");

        bench.Terminate();

        // A 60 s workload: an exit well inside the ceiling means the signal ended it.
        Assert.That(bench.WaitForExit(TimeSpan.FromSeconds(45)), Is.EqualTo(130), bench.Transcript);
        Assert.That(Directory.GetFiles(_folder, "miniss-bench-*.dat"), Is.Empty, "the temporary file is deleted");
        Assert.That(bench.StandardError, Does.Not.Contain("   at "));
    }

    [Test]
    public void SIGKILL_mid_run_leaves_no_temporary_file()
    {
        using MinissProcess bench = MinissProcess.Start(["bench", "--duration", "60", "--file-size", "8", "--connections", "4"],
            environment: new Dictionary<string, string> { ["TMPDIR"] = _folder });
        bench.WaitForError("file read 4 KiB, Miniss");

        bench.Dispose();   // SIGKILL

        Assert.That(Directory.GetFiles(_folder, "miniss-bench-*"), Is.Empty, "the file had no name left to leave behind");
    }

    [Test]
    public void Too_little_room_for_the_temporary_file_is_refused_before_the_run()
    {
        MountTmpfs("1m");

        var run = MinissProcess.Run(["bench", "--file-size", "8", "--duration", "0.05"], environment: new Dictionary<string, string> { ["TMPDIR"] = _folder });

        Assert.That(run.Exit, Is.EqualTo(2), run.Transcript);
        MinissProcess.AssertOneLineFailure(run.Stderr, run.Transcript);
        Assert.That(run.Stderr, Does.Contain("'--file-size 8' needs 8 MiB in the temporary folder").And.Contain("TMPDIR"));
        Assert.That(Directory.GetFiles(_folder, "miniss-bench-*.dat"), Is.Empty);
    }

    [Test]
    public void A_disk_that_fills_while_the_file_is_written_ends_the_run_in_one_line_with_exit_1()
    {
        MountTmpfs("256m");
        using MinissProcess bench = MinissProcess.Start(["bench", "--file-size", "250", "--duration", "0.05"],
            environment: new Dictionary<string, string> { ["TMPDIR"] = _folder });

        // Once bench has begun writing its file (after its checks; the file has no name), another writer takes what
        // room is left.
        var disk = new DriveInfo(_folder);
        long empty = disk.AvailableFreeSpace;
        var clock = Stopwatch.StartNew();
        while (disk.AvailableFreeSpace > empty - (4 << 20))
        {
            Assert.That(clock.Elapsed, Is.LessThan(MinissProcess.Patience), $"bench never began its file\n{bench.Transcript}");
            System.Threading.Thread.Sleep(5);
        }

        FillUp(Path.Combine(_folder, "filler"));

        int exit = bench.WaitForExit(MinissProcess.Patience);
        Assert.That(exit, Is.EqualTo(1), bench.Transcript);
        MinissProcess.AssertOneLineFailure(bench.StandardError, bench.Transcript);
        Assert.That(bench.StandardError, Does.Contain("could not be written: no space left on its device"));
        Assert.That(Directory.GetFiles(_folder, "miniss-bench-*.dat"), Is.Empty, "the temporary file is deleted");
    }

    private void MountTmpfs(string size)
    {
        (int exit, string output) = Command("mount", ["-t", "tmpfs", "-o", $"size={size}", "tmpfs", _folder]);
        if (exit != 0)
        {
            Assert.Ignore($"a tmpfs cannot be mounted here (mount needs root and CAP_SYS_ADMIN): {output}");
        }

        _mounted = true;
    }

    private static void FillUp(string path)
    {
        byte[] chunk = new byte[1 << 20];
        try
        {
            using var filler = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            while (true)
            {
                filler.Write(chunk);
                filler.Flush();
            }
        }
        catch (IOException)
        {
            // Full.
        }
    }

    private static (int Exit, string Output) Command(string file, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        Assert.That(process.WaitForExit(30_000), Is.True, $"{file} did not finish");
        return (process.ExitCode, output);
    }
}
