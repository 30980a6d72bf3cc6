using System;
using System.Globalization;
using System.Linq;
using Miniss.Bindings.Linux;
using NUnit.Framework;

namespace Miniss.Runtime.Tests.IO;

[TestFixture]
public sealed class IoUringCapabilitiesTests
{
    /// <summary>One past IORING_OP_PIPE, the last operation of Linux 6.18, the long-term release the bindings state.</summary>
    private const int OperationsOfLinux618 = 63;

    [Test]
    public void Every_operation_a_kernel_up_to_6_18_reports_is_named()
    {
        IoUringCapabilities capabilities = IoUringCapabilities.Probe();
        if (!capabilities.IsAvailable)
        {
            Assert.That(capabilities.SupportedOperations, Is.Empty, "an unavailable io_uring reports no operations");
            return;
        }

        var unnamedBelow618 = capabilities.SupportedOperations
            .Where(name => name.StartsWith("opcode ", StringComparison.Ordinal)
                && int.Parse(name.AsSpan("opcode ".Length), CultureInfo.InvariantCulture) < OperationsOfLinux618)
            .ToList();
        Assert.That(unnamedBelow618, Is.Empty, "operations the kernel reports that the bindings cannot name");
        Assert.That(capabilities.SupportedOperations, Does.Contain("IORING_OP_NOP"));
    }

    [Test]
    public void Every_feature_bit_a_kernel_up_to_6_18_reports_is_named()
    {
        IoUringCapabilities capabilities = IoUringCapabilities.Probe();
        const uint featuresOfLinux618 = (1u << 18) - 1;
        uint named = 0;
        foreach (string name in capabilities.FeatureNames)
        {
            named |= (uint)typeof(IoUring).GetField(name)!.GetValue(null)!;
        }

        Assert.That(capabilities.Features & featuresOfLinux618 & ~named, Is.Zero, "feature bits the kernel reports that the bindings cannot name");
    }
}
