using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using Miniss.Bindings.Linux;

namespace Miniss.Internal.Linux;

/// <summary>CPU affinity of the calling thread through <c>sched_getaffinity</c> / <c>sched_setaffinity</c>.</summary>
internal static unsafe class ThreadAffinity
{
    /// <summary>The CPUs the calling thread may run on, ascending; every CPU up to the processor count off Linux.</summary>
    public static IReadOnlyList<int> AllowedCpus()
    {
        var cpus = new List<int>();
        if (OperatingSystem.IsLinux())
        {
            cpu_set_t set = default;
            if (Libc.sched_getaffinity(0, (nuint)sizeof(cpu_set_t), &set) == 0)
            {
                for (int word = 0; word < 16; word++)
                {
                    ulong bits = set.__bits[word];
                    for (int bit = 0; bit < 64; bit++)
                    {
                        if ((bits & (1UL << bit)) != 0)
                        {
                            cpus.Add(word * 64 + bit);
                        }
                    }
                }

                return cpus;
            }
        }

        for (int cpu = 0; cpu < Environment.ProcessorCount; cpu++)
        {
            cpus.Add(cpu);
        }

        return cpus;
    }

    /// <summary>Pins the calling thread to <paramref name="cpu"/>; returns 0 or the errno of the refusal.</summary>
    public static int PinCurrentThread(int cpu)
    {
        if (!OperatingSystem.IsLinux())
        {
            return Errno.ENOSYS;
        }

        if (cpu < 0 || cpu >= Files.CPU_SETSIZE)
        {
            return Errno.EINVAL;
        }

        cpu_set_t set = default;
        set.__bits[cpu / 64] = (nuint)(1UL << (cpu % 64));
        return Libc.sched_setaffinity(0, (nuint)sizeof(cpu_set_t), &set) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }
}
