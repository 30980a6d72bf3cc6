using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Miniss.Generators.Tests;

/// <summary>
/// What the generated code says, asserted on its text where a snapshot would only show it: constants are named, each
/// operation carries a readiness descriptor, prepare-only operations fill in the SQE they are given, and each catalog
/// type lists the opcodes it uses.
/// </summary>
[TestFixture]
public sealed class GeneratedTextTests
{
    private const string Ops = "Miniss.IO.IoOperations.";

    private static readonly Lazy<GeneratorRun> s_catalog = new(() => GeneratorRun.Of(CatalogCompilation.Runtime()));
    private static readonly Lazy<GeneratorRun> s_sample = new(() => GeneratorRun.Of(CatalogCompilation.Sample()));

    private static IReadOnlyDictionary<string, string> Catalog => s_catalog.Value.Sources;

    [Test]
    public void The_runtime_catalog_names_every_opcode_domain_and_errno()
    {
        Assert.Multiple(() =>
        {
            foreach ((string hintName, string text) in Catalog)
            {
                Assert.That(text, Does.Not.Match(@"->opcode = \d"), hintName);
                Assert.That(text, Does.Not.Contain("(global::Miniss.IO.Catalog."), hintName + ": an enum value written as a cast number");
                Assert.That(text, Does.Not.Match(@"ExpectErrno\(\d"), hintName);
            }

            Assert.That(Catalog[Ops + "ReadAsync.g.cs"], Does.Contain("__sqe->opcode = global::Miniss.Bindings.Linux.IoUring.IORING_OP_READ;"));
            Assert.That(Catalog[Ops + "SendAsync.g.cs"], Does.Contain("TryBeginIo(\"send\", global::Miniss.IO.Catalog.IoDomain.Socket,"));
            Assert.That(Catalog[Ops + "TimeoutAsync.g.cs"], Does.Contain("__promise.ExpectErrno(global::Miniss.Bindings.Linux.Errno.ETIME);"));
            Assert.That(Catalog[Ops + "FdatasyncAsync.g.cs"], Does.Contain("__sqe->fsync_flags = unchecked((uint)(global::Miniss.Bindings.Linux.IoUring.IORING_FSYNC_DATASYNC));"));
        });
    }

    [Test]
    public void Every_operation_has_a_readiness_descriptor_that_its_launch_hands_over()
    {
        Assert.Multiple(() =>
        {
            foreach ((string hintName, string text) in Catalog.Where(s => s.Key != Ops + "g.cs"))
            {
                string method = hintName[Ops.Length..^".g.cs".Length];
                Assert.That(text, Does.Contain($"internal static readonly global::Miniss.IO.Catalog.ReadinessDescriptor {method}_Readiness = new("), hintName);
                if (!method.StartsWith("Prepare", StringComparison.Ordinal))
                {
                    Assert.That(text, Does.Match($@"return __shard\.Launch(Untyped)?\(__promise, in {method}_Readiness, "), hintName);
                }
            }
        });
    }

    [Test]
    public void Every_awaitable_operation_writes_its_SQE_only_through_its_inlined_prepare_function()
    {
        Assert.Multiple(() =>
        {
            foreach ((string hintName, string text) in Catalog.Where(s => s.Key != Ops + "g.cs" && !s.Key.StartsWith(Ops + "Prepare", StringComparison.Ordinal)))
            {
                string method = hintName[Ops.Length..^".g.cs".Length];
                int prepare = text.IndexOf($"internal static void {method}_Prepare(global::Miniss.Bindings.Linux.io_uring_sqe* __sqe, ulong __userData", StringComparison.Ordinal);
                Assert.That(prepare, Is.GreaterThan(0), hintName + ": no prepare function");
                if (prepare <= 0)
                {
                    continue;
                }

                string awaitable = text[..prepare];
                string writer = text[prepare..text.IndexOf("_Readiness = new(", StringComparison.Ordinal)];
                Assert.That(awaitable, Does.Contain($"{method}_Prepare(__shard.NextSqe(), __promise.UserData"), hintName);
                Assert.That(awaitable, Does.Contain("MethodImplOptions.AggressiveInlining)]"), hintName);
                Assert.That(awaitable[..awaitable.LastIndexOf("[global::System.Runtime.CompilerServices.MethodImpl", StringComparison.Ordinal)], Does.Not.Contain("->"), hintName + ": the awaitable writes an SQE field itself");
                Assert.That(writer, Does.Contain("__sqe->user_data = __userData;"), hintName);
                Assert.That(writer, Does.Not.Contain("__shard").And.Not.Contain("__promise").And.Not.Contain("__pin"), hintName);
            }
        });
    }

    [TestCase("NopAsync", "ReadinessKind.Immediate,\n        null,\n        global::Miniss.IO.Catalog.ReadinessEffects.None,\n        global::Miniss.IO.Catalog.ReadinessKind.None,\n        null);")]
    [TestCase("TimeoutAsync", "ReadinessKind.Timer,\n        null,")]
    [TestCase("AsyncCancelAsync", "ReadinessKind.Cancel,\n        null,")]
    [TestCase("ShutdownAsync", "ReadinessKind.Inline,\n        &ShutdownAsync_Perform,")]
    [TestCase("CloseAsync", "ReadinessKind.Blocking,\n        &CloseAsync_Perform,\n        global::Miniss.IO.Catalog.ReadinessEffects.ForgetsDescriptor,")]
    [TestCase("ConnectAsync", "ReadinessKind.Write,\n        &ConnectAsync_Perform,\n        global::Miniss.IO.Catalog.ReadinessEffects.InProgressUntilWritable,")]
    [TestCase("AcceptAsync", "ReadinessKind.Read,\n        &AcceptAsync_Perform,\n        global::Miniss.IO.Catalog.ReadinessEffects.HangUpIsInvalid,")]
    [TestCase("ReadAsync", "ReadinessKind.Blocking,\n        &ReadAsync_Perform,\n        global::Miniss.IO.Catalog.ReadinessEffects.None,\n        global::Miniss.IO.Catalog.ReadinessKind.Read,\n        &ReadAsync_PerformStream);")]
    [TestCase("WriteVectorAsync", "global::Miniss.IO.Catalog.ReadinessKind.Write,\n        &WriteVectorAsync_PerformStream);")]
    [TestCase("PrepareWakeRead", "ReadinessKind.Read,\n        &PrepareWakeRead_Perform,\n        global::Miniss.IO.Catalog.ReadinessEffects.Internal,")]
    [TestCase("PrepareMultishotReceive", "ReadinessKind.None,\n        null,")]
    public void The_descriptor_holds_what_the_declaration_says(string method, string expected) =>
        Assert.That(Catalog[Ops + method + ".g.cs"], Does.Contain(expected.Replace("\n", "\n    ", StringComparison.Ordinal)));

    [TestCase("ReceiveAsync", "unchecked((int)(__sqe->msg_flags | unchecked((uint)(global::Miniss.Bindings.Linux.Sockets.MSG_DONTWAIT)))))")]
    [TestCase("SendAsync", "unchecked((int)(__sqe->msg_flags | unchecked((uint)(global::Miniss.Bindings.Linux.Sockets.MSG_DONTWAIT | global::Miniss.Bindings.Linux.Sockets.MSG_NOSIGNAL)))))")]
    [TestCase("SendMessageAsync", "Libc.sendmsg(unchecked((int)(__sqe->fd)), unchecked((global::Miniss.Bindings.Linux.msghdr*)(__sqe->addr)), unchecked((int)(__sqe->msg_flags | unchecked((uint)(global::Miniss.Bindings.Linux.Sockets.MSG_DONTWAIT | global::Miniss.Bindings.Linux.Sockets.MSG_NOSIGNAL)))))")]
    [TestCase("AcceptAsync", "unchecked((int)(__sqe->accept_flags | unchecked((uint)(global::Miniss.Bindings.Linux.Sockets.SOCK_NONBLOCK)))))")]
    public void Readiness_flags_join_the_callers_flags_in_the_system_call(string method, string expected) =>
        Assert.That(Catalog[Ops + method + ".g.cs"], Does.Contain(expected));

    [Test]
    public void The_streaming_path_calls_the_stream_function_without_the_offset()
    {
        string read = Catalog[Ops + "ReadAsync.g.cs"];
        string streaming = read[read.IndexOf("ReadAsync_PerformStream(global::", StringComparison.Ordinal)..];

        Assert.That(streaming, Does.Contain("Libc.read(unchecked((int)(__sqe->fd)), unchecked((void*)(__sqe->addr)), unchecked((nuint)(__sqe->len)));"));
        Assert.That(read, Does.Contain("Libc.pread(unchecked((int)(__sqe->fd)), unchecked((void*)(__sqe->addr)), unchecked((nuint)(__sqe->len)), unchecked((nint)(__sqe->off)));"));
    }

    [Test]
    public void A_prepare_only_operation_fills_in_the_SQE_it_is_given_and_nothing_else()
    {
        string receive = Catalog[Ops + "PrepareMultishotReceive.g.cs"];
        string body = receive[receive.IndexOf("PrepareMultishotReceive(", StringComparison.Ordinal)..receive.IndexOf("_Readiness", StringComparison.Ordinal)];

        Assert.Multiple(() =>
        {
            Assert.That(receive, Does.Contain("internal static partial void PrepareMultishotReceive(global::Miniss.Bindings.Linux.io_uring_sqe* sqe, int fd, ushort group, ulong userData)"));
            Assert.That(body, Does.Contain("sqe->opcode = global::Miniss.Bindings.Linux.IoUring.IORING_OP_RECV;"));
            Assert.That(body, Does.Contain("sqe->fd = fd;"));
            Assert.That(body, Does.Contain("sqe->buf_group = unchecked((ushort)group);"));
            Assert.That(body, Does.Contain("sqe->ioprio = unchecked((ushort)(global::Miniss.Bindings.Linux.IoUring.IORING_RECV_MULTISHOT));"));
            Assert.That(body, Does.Contain("sqe->flags = unchecked((byte)(global::Miniss.Bindings.Linux.IoUring.IOSQE_BUFFER_SELECT));"));
            Assert.That(body, Does.Not.Contain("__shard").And.Not.Contain("__promise").And.Not.Contain("NextSqe"));
            Assert.That(Catalog[Ops + "PrepareWakeRead.g.cs"], Does.Contain("sqe->user_data = unchecked((ulong)userData);"));
            Assert.That(Catalog[Ops + "PrepareCancelAll.g.cs"], Does.Contain(
                "sqe->cancel_flags = unchecked((uint)(global::Miniss.Bindings.Linux.IoUring.IORING_ASYNC_CANCEL_ANY | global::Miniss.Bindings.Linux.IoUring.IORING_ASYNC_CANCEL_ALL));"));
            Assert.That(Catalog[Ops + "PrepareCancelAll.g.cs"], Does.Contain("sqe->fd = unchecked((int)(-1));"));
        });
    }

    [Test]
    public void A_user_data_parameter_is_not_an_argument_of_the_system_call()
    {
        string wake = Catalog[Ops + "PrepareWakeRead.g.cs"];

        Assert.That(wake, Does.Contain("Libc.read(unchecked((int)(__sqe->fd)), unchecked((void*)(__sqe->addr)), unchecked((nuint)(__sqe->len)));"));
    }

    [Test]
    public void The_opcode_list_holds_each_opcode_the_catalog_declares_once_named_in_order()
    {
        string list = Catalog[Ops + "g.cs"];
        string[] declared = Regex.Matches(Repository.Read(CatalogCompilation.RuntimeCatalogPath), @"\[IoOperation\(IoUring\.IORING_OP_(\w+)")
            .Select(m => m.Groups[1].Value).Distinct().ToArray();
        string[] listed = Regex.Matches(list, @"\(\(byte\)global::Miniss\.Bindings\.Linux\.IoUring\.IORING_OP_(\w+), ""(\w+)""\)")
            .Select(m => m.Groups[1].Value == m.Groups[2].Value ? m.Groups[1].Value : "mismatch " + m.Value).ToArray();
        int[] values = listed.Select(name => (int)typeof(Miniss.Bindings.Linux.IoUring).GetField("IORING_OP_" + name)!.GetValue(null)!).ToArray();

        Assert.Multiple(() =>
        {
            Assert.That(listed, Is.EquivalentTo(declared));
            Assert.That(listed, Does.Contain("SENDMSG"));
            Assert.That(values, Is.Ordered.Ascending);
            Assert.That(list, Does.Contain("internal static readonly (byte Opcode, string Name)[] Opcodes ="));
        });
    }

    [Test]
    public void An_opcode_written_as_a_number_is_listed_by_its_number()
    {
        Assert.That(s_sample.Value.Sources["GlobalOperations.g.cs"], Does.Contain("((byte)0, \"0\"),"));
    }
}
