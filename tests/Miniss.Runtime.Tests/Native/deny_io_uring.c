/* deny_io_uring ERRNO COMMAND [ARGS...]

   Runs COMMAND with io_uring_setup(2) refused with ERRNO (EPERM, ENOSYS or ENOMEM) by a seccomp filter: how
   Docker's and containerd's default profiles refuse io_uring (EPERM), how an old kernel or a sandbox looks (ENOSYS),
   and how a too small locked-memory limit looks (ENOMEM). The backend-selection tests run the miniss command under it. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#if defined(__x86_64__)
#define DENY_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define DENY_ARCH AUDIT_ARCH_AARCH64
#else
#error "unsupported architecture"
#endif

/* The same number on every architecture since Linux 5.1. */
#define DENY_NR_IO_URING_SETUP 425

int main(int argc, char **argv)
{
    if (argc < 3)
    {
        fprintf(stderr, "usage: deny_io_uring EPERM|ENOSYS|ENOMEM COMMAND [ARGS...]\n");
        return 2;
    }

    unsigned int error = strcmp(argv[1], "ENOSYS") == 0 ? ENOSYS : strcmp(argv[1], "ENOMEM") == 0 ? ENOMEM : EPERM;
    struct sock_filter filter[] = {
        /* Another architecture's calls (a 32-bit ABI) are let through untouched. */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, DENY_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, DENY_NR_IO_URING_SETUP, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (error & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog program = { .len = sizeof filter / sizeof filter[0], .filter = filter };

    /* Without privileges a filter needs no_new_privs; the filter is inherited across exec. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0)
    {
        perror("deny_io_uring: installing the seccomp filter");
        return 3;
    }

    execvp(argv[2], argv + 2);
    perror("deny_io_uring: exec");
    return 4;
}
