using System;
using System.Globalization;
using Miniss.IO.FaultInjection;
using NUnit.Framework;

namespace Miniss.Runtime.Tests;

/// <summary>
/// Puts the whole suite under engine faults that a correct runtime hides from its users, when
/// <c>MINISS_AMBIENT_FAULT_SEED</c> is set: a full submission queue, completion-queue overflows, busy or interrupted
/// <c>io_uring_enter</c> calls and failed eventfd writes strike every runtime the tests start (at
/// <c>MINISS_AMBIENT_FAULT_RATE</c>, default 0.05; <c>MINISS_AMBIENT_FAULT_KINDS</c> narrows them), and every test
/// must pass as it does without them, but for the allocation tests (the injector itself allocates). Errors and
/// short transfers are left out: they change what a single operation returns, which the tests of exact behaviour
/// rightly check; the tests in this folder cover them.
/// </summary>
[SetUpFixture]
public sealed class AmbientFaults
{
    /// <summary>The faults a correct runtime hides: nothing a caller sees may change because of them.</summary>
    internal const FaultKinds Transparent = FaultKinds.SubmissionQueueFull | FaultKinds.CompletionOverflow | FaultKinds.EnterBusy | FaultKinds.EnterInterrupted | FaultKinds.EventFdFailure;

    [OneTimeSetUp]
    public void InjectWhenAsked()
    {
        if (Environment.GetEnvironmentVariable("MINISS_AMBIENT_FAULT_SEED") is not { Length: > 0 } seedText)
        {
            return;
        }

        double rate = Environment.GetEnvironmentVariable("MINISS_AMBIENT_FAULT_RATE") is { Length: > 0 } rateText
            ? double.Parse(rateText, CultureInfo.InvariantCulture)
            : 0.05;
        FaultKinds kinds = Environment.GetEnvironmentVariable("MINISS_AMBIENT_FAULT_KINDS") is { Length: > 0 } kindsText
            ? Enum.Parse<FaultKinds>(kindsText) & Transparent
            : Transparent;
        FaultSchedule.Ambient = new FaultSchedule(int.Parse(seedText, CultureInfo.InvariantCulture), rate, kinds);
        TestContext.Progress.WriteLine($"every runtime of this run injects: {FaultSchedule.Ambient}");
    }

    [OneTimeTearDown]
    public void StopInjecting() => FaultSchedule.Ambient = null;
}
