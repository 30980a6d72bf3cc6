using Miniss.IO;
using System;
using System.IO;
using System.Runtime.Versioning;
using System.Text;
using System.Threading.Tasks;
using Miniss.Bindings.Linux;
using Miniss.Storage;
using NUnit.Framework;
using static Miniss.Runtime.Tests.Storage.StorageTestSupport;

namespace Miniss.Runtime.Tests.Storage;

/// <summary>How BufferedFile.OpenAsync honours FileMode and FileAccess, on real files.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Available))]
[Platform("Linux")]
[SupportedOSPlatform("linux")]
public sealed class FileModeTests(IoBackendKind backend) : BackendFixture(backend)
{
    private string _directory = null!;

    [SetUp]
    public void SetUp() => _directory = CreateTempDirectory("miniss-modes");

    [TearDown]
    public void TearDown() => DeleteDirectory(_directory);

    private string FilePath(string name = "data") => Path.Combine(_directory, name);

    [Test, CancelAfter(20_000)]
    public async Task CreateNew_on_an_existing_file_throws_IOException_with_EEXIST()
    {
        string path = FilePath();
        await File.WriteAllTextAsync(path, "keep me");
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        Exception? error = await runtime.SubmitTo(0, () => Capture(async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.CreateNew);
        })).Within(15);

        Assert.That(error, Is.TypeOf<IOException>());
        Assert.That(error!.Data["errno"], Is.EqualTo(Errno.EEXIST));
        Assert.That(error.Message, Does.Contain("EEXIST").And.Contain(path));
        Assert.That(await File.ReadAllTextAsync(path), Is.EqualTo("keep me"));
    }

    [Test, CancelAfter(20_000)]
    public async Task CreateNew_creates_a_missing_file_with_the_given_permissions()
    {
        string path = FilePath();
        const UnixFileMode permissions = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        await runtime.SubmitTo(1, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.CreateNew, FileAccess.Write, permissions);
            await file.WriteAllAsync(0, "new"u8.ToArray());
        }).Within(15);

        Assert.That(await File.ReadAllTextAsync(path), Is.EqualTo("new"));
        Assert.That(File.GetUnixFileMode(path), Is.EqualTo(permissions));
    }

    [Test, CancelAfter(20_000)]
    public async Task Open_on_a_missing_file_throws_FileNotFoundException_naming_the_path_and_ENOENT()
    {
        string path = FilePath("missing");
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        Exception? error = await runtime.SubmitTo(1, () => Capture(async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Open);
        })).Within(15);

        Assert.That(error, Is.TypeOf<FileNotFoundException>());
        var notFound = (FileNotFoundException)error!;
        Assert.That(notFound.FileName, Is.EqualTo(path));
        Assert.That(notFound.Message, Does.Contain(path).And.Contain("ENOENT"));
        Assert.That(notFound.Data["errno"], Is.EqualTo(Errno.ENOENT));
        Assert.That(File.Exists(path), Is.False, "Open must not create the file");
    }

    [Test, CancelAfter(20_000)]
    public async Task Open_keeps_the_existing_content()
    {
        string path = FilePath();
        await File.WriteAllTextAsync(path, "0123456789");
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        string text = await runtime.SubmitTo(0, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Open);
            await file.WriteAllAsync(2, "ab"u8.ToArray());
            byte[] back = new byte[32];
            int read = await file.ReadAsync(0, back);
            return Encoding.ASCII.GetString(back, 0, read);
        }).Within(15);

        Assert.That(text, Is.EqualTo("01ab456789"));
    }

    [Test, CancelAfter(20_000)]
    public async Task Create_truncates_an_existing_file()
    {
        string path = FilePath();
        await File.WriteAllBytesAsync(path, new byte[10_000]);
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        long length = await runtime.SubmitTo(0, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Create);
            return await file.GetLengthAsync();
        }).Within(15);

        Assert.That(length, Is.Zero);
        Assert.That(new FileInfo(path).Length, Is.Zero);
    }

    [Test, CancelAfter(20_000)]
    public async Task Truncate_empties_an_existing_file()
    {
        string path = FilePath();
        await File.WriteAllBytesAsync(path, new byte[10_000]);
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (long length, int read) = await runtime.SubmitTo(1, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Truncate);
            return (await file.GetLengthAsync(), await file.ReadAsync(0, new byte[100]));
        }).Within(15);

        Assert.That(length, Is.Zero);
        Assert.That(read, Is.Zero);
    }

    [Test, CancelAfter(20_000)]
    public async Task Truncate_on_a_missing_file_throws_FileNotFoundException()
    {
        string path = FilePath("missing");
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        Exception? error = await runtime.SubmitTo(0, () => Capture(async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Truncate);
        })).Within(15);

        Assert.That(error, Is.TypeOf<FileNotFoundException>());
        Assert.That(File.Exists(path), Is.False);
    }

    [Test, CancelAfter(20_000)]
    public async Task Append_writes_at_the_end_of_the_file_whatever_the_offset()
    {
        string path = FilePath();
        await File.WriteAllTextAsync(path, "abc");
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        long length = await runtime.SubmitTo(1, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Append, FileAccess.Write);
            await file.WriteAllAsync(0, "def"u8.ToArray());
            await file.WriteAllAsync(1, "gh"u8.ToArray());
            return await file.GetLengthAsync();
        }).Within(15);

        Assert.That(length, Is.EqualTo(8));
        Assert.That(await File.ReadAllTextAsync(path), Is.EqualTo("abcdefgh"));
    }

    [Test, CancelAfter(20_000)]
    public async Task Append_creates_a_missing_file()
    {
        string path = FilePath("appended");
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        await runtime.SubmitTo(0, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Append, FileAccess.Write);
            await file.WriteAllAsync(0, "first"u8.ToArray());
        }).Within(15);

        Assert.That(await File.ReadAllTextAsync(path), Is.EqualTo("first"));
    }

    [Test, CancelAfter(20_000)]
    public async Task OpenOrCreate_creates_a_missing_file_and_keeps_an_existing_one()
    {
        string created = FilePath("created");
        string existing = FilePath("existing");
        await File.WriteAllTextAsync(existing, "old content");
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (long createdLength, long existingLength) = await runtime.SubmitTo(0, async () =>
        {
            await using BufferedFile a = await BufferedFile.OpenAsync(created, FileMode.OpenOrCreate);
            await using BufferedFile b = await BufferedFile.OpenAsync(existing, FileMode.OpenOrCreate);
            return (await a.GetLengthAsync(), await b.GetLengthAsync());
        }).Within(15);

        Assert.That(File.Exists(created), Is.True);
        Assert.That(createdLength, Is.Zero);
        Assert.That(existingLength, Is.EqualTo("old content".Length));
        Assert.That(await File.ReadAllTextAsync(existing), Is.EqualTo("old content"));
    }

    [TestCase(FileMode.Create)]
    [TestCase(FileMode.CreateNew)]
    [TestCase(FileMode.Truncate)]
    [TestCase(FileMode.Append)]
    [CancelAfter(20_000)]
    public async Task A_mode_that_writes_with_read_only_access_throws_ArgumentException_and_touches_nothing(FileMode mode)
    {
        string path = FilePath();
        await File.WriteAllTextAsync(path, "untouched");
        string missing = FilePath("missing");
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        (Exception? onExisting, Exception? onMissing) = await runtime.SubmitTo(0, async () => (
            await Capture(async () => { await using BufferedFile f = await BufferedFile.OpenAsync(path, mode, FileAccess.Read); }),
            await Capture(async () => { await using BufferedFile f = await BufferedFile.OpenAsync(missing, mode, FileAccess.Read); }))).Within(15);

        Assert.That(onExisting, Is.InstanceOf<ArgumentException>());
        Assert.That(onMissing, Is.InstanceOf<ArgumentException>());
        Assert.That(await File.ReadAllTextAsync(path), Is.EqualTo("untouched"));
        Assert.That(File.Exists(missing), Is.False);
    }

    [Test, CancelAfter(20_000)]
    public async Task Writing_a_file_opened_read_only_fails_with_EBADF()
    {
        string path = FilePath();
        await File.WriteAllTextAsync(path, "read only");
        await using RuntimeScope scope = RuntimeScope.Start();
        MinissRuntime runtime = scope.Runtime;

        Exception? error = await runtime.SubmitTo(1, async () =>
        {
            await using BufferedFile file = await BufferedFile.OpenAsync(path, FileMode.Open, FileAccess.Read);
            return await Capture(() => file.WriteAsync(0, "x"u8.ToArray()));
        }).Within(15);

        Assert.That(error, Is.TypeOf<UnauthorizedAccessException>(), "as .NET's RandomAccess reports a write through a read-only handle");
        Assert.That(error!.Data["errno"], Is.EqualTo(Errno.EBADF));
        Assert.That(error.Data["operation"], Is.EqualTo("write"));
        Assert.That(await File.ReadAllTextAsync(path), Is.EqualTo("read only"));
    }
}
