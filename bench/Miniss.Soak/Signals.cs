using System.Runtime.InteropServices;

namespace Miniss.Soak;

/// <summary>kill(2): <see cref="System.Diagnostics.Process.Kill()"/> only sends SIGKILL, and a server is first asked to
/// stop with SIGTERM (wrk with SIGINT, which makes it print what it measured so far).</summary>
internal static partial class Signals
{
    public const int SIGINT = 2;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; false if the process is gone.</summary>
    public static bool Send(int pid, int signal) => Kill(pid, signal) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
