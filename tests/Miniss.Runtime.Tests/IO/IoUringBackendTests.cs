using System;
using System.Linq;
using Miniss.Bindings.Linux;
using Miniss.IO;
using Miniss.IO.Uring;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.IO;

[TestFixture]
[Platform("Linux")]
public sealed unsafe class IoUringBackendTests
{
    [Test]
    public void Every_combination_of_optional_setup_flags_gives_a_working_ring()
    {
        uint[] optional =
        [
            IoUring.IORING_SETUP_SINGLE_ISSUER, IoUring.IORING_SETUP_DEFER_TASKRUN, IoUring.IORING_SETUP_COOP_TASKRUN,
            IoUring.IORING_SETUP_TASKRUN_FLAG, IoUring.IORING_SETUP_SUBMIT_ALL,
        ];
        Span<IoCompletion> completions = stackalloc IoCompletion[4];
        for (int mask = 0; mask < 1 << optional.Length; mask++)
        {
            uint wanted = 0;
            for (int bit = 0; bit < optional.Length; bit++)
            {
                wanted |= (mask & (1 << bit)) != 0 ? optional[bit] : 0;
            }

            // Combinations the kernel refuses (DEFER_TASKRUN without SINGLE_ISSUER, TASKRUN_FLAG alone) are
            // narrowed flag by flag until it accepts; the ring that results never has a flag that was not asked for.
            using var ring = IoUringBackend.Create(8, 16, wanted);
            Assert.That(ring.SetupFlags & ~(wanted | IoUring.IORING_SETUP_CQSIZE), Is.Zero, $"flags 0x{wanted:X}");
            ring.NextSqe()->opcode = IoUring.IORING_OP_NOP;
            ring.Wait(1_000_000_000);
            Assert.That(ring.TryReap(out IoCompletion completion), Is.True, $"flags 0x{wanted:X}: no completion");
            Assert.That(completion.Result, Is.Zero);
        }
    }

    [Test]
    public void The_ring_is_set_up_with_the_flags_the_kernel_accepts()
    {
        using IoUringBackend backend = IoUringBackend.Create(8, 16, IoUringBackend.DefaultFlags);
        IoUringCapabilities capabilities = IoUringCapabilities.Probe();

        // Every optional flag the probe saw accepted on its own is kept by the backend's combined setup.
        foreach ((string name, uint flag) in new[]
        {
            ("IORING_SETUP_SINGLE_ISSUER", IoUring.IORING_SETUP_SINGLE_ISSUER),
            ("IORING_SETUP_DEFER_TASKRUN", IoUring.IORING_SETUP_DEFER_TASKRUN),
            ("IORING_SETUP_COOP_TASKRUN", IoUring.IORING_SETUP_COOP_TASKRUN),
            ("IORING_SETUP_SUBMIT_ALL", IoUring.IORING_SETUP_SUBMIT_ALL),
        })
        {
            Assert.That((backend.SetupFlags & flag) != 0, Is.EqualTo(capabilities.AcceptedSetupFlags.Contains(name)), name);
        }
    }
}
