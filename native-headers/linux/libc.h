/* Miniss's own declaration of the glibc functions the Linux runtime calls; its constants are verified by the test suite against the system headers. */
#ifndef MINISS_LINUX_LIBC_H
#define MINISS_LINUX_LIBC_H

#include "base.h"
#include "epoll.h"
#include "file.h"
#include "socket.h"

/* ---- Raw system calls ----------------------------------------------------------------------------------------- */

/* glibc declares syscall(long number, ...). It is declared here with six fixed long arguments because .NET cannot
   call a C variadic function, and on both targets that is the same call at the machine level for integer and
   pointer arguments:
   - x86_64 (System V): variadic integer arguments go in the same registers (rdi, rsi, rdx, rcx, r8, r9) and stack
     slots as fixed ones; the only extra, %al (vector registers used), matters to a callee that spills vector
     registers for va_arg, and glibc's syscall() is an assembly routine that only moves integer registers.
   - aarch64 (AAPCS64 as used on Linux, unlike Apple's arm64): variadic arguments are passed exactly like fixed
     ones, in x0-x7.
   Unused trailing arguments are ignored by the kernel, so callers pass 0 for them. */
long syscall(long number, long arg1, long arg2, long arg3, long arg4, long arg5, long arg6);

/* ---- Memory --------------------------------------------------------------------------------------------------- */

void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset);
int munmap(void *addr, size_t length);
int madvise(void *addr, size_t length, int advice);
int mlock(const void *addr, size_t length);
int munlock(const void *addr, size_t length);

/* ---- File descriptors and files ------------------------------------------------------------------------------- */

/* glibc declares open(path, flags, ...) and openat(dirfd, path, flags, ...), reading the third argument only when
   flags asks for a mode (O_CREAT, O_TMPFILE). Passing mode_t as a fixed argument is the same call on both targets,
   for the reasons given for syscall() above: the callee's va_arg finds an integer argument in the register it was
   passed in. Callers pass 0 when no mode is wanted. */
int open(const char *path, int flags, mode_t mode);
int openat(int dirfd, const char *path, int flags, mode_t mode);

/* glibc declares fcntl(fd, cmd, ...); Miniss uses only the commands with an int argument or none (F_GETFL,
   F_SETFL), passed as a fixed argument for the reasons given for open() above. Callers pass 0 when the command
   takes no argument. */
int fcntl(int fd, int cmd, int arg);

int close(int fd);
ssize_t read(int fd, void *buffer, size_t count);
ssize_t write(int fd, const void *buffer, size_t count);
ssize_t pread(int fd, void *buffer, size_t count, off_t offset);
ssize_t pwrite(int fd, const void *buffer, size_t count, off_t offset);
ssize_t readv(int fd, const struct iovec *iov, int iovcnt);
ssize_t writev(int fd, const struct iovec *iov, int iovcnt);
ssize_t preadv(int fd, const struct iovec *iov, int iovcnt, off_t offset);
ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t offset);
int fsync(int fd);
int fdatasync(int fd);
int fallocate(int fd, int mode, off_t offset, off_t length);
int ftruncate(int fd, off_t length);
int unlink(const char *path);
int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buffer);
int pipe2(int *fds, int flags);   /* fds points to two ints: read end, write end */
int eventfd(unsigned int initval, int flags);

/* ---- Sockets -------------------------------------------------------------------------------------------------- */

int socket(int domain, int type, int protocol);
int bind(int fd, const struct sockaddr *address, socklen_t length);
int listen(int fd, int backlog);
int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);
int connect(int fd, const struct sockaddr *address, socklen_t length);
int setsockopt(int fd, int level, int name, const void *value, socklen_t length);
int getsockopt(int fd, int level, int name, void *value, socklen_t *length);
int getsockname(int fd, struct sockaddr *address, socklen_t *length);
int getpeername(int fd, struct sockaddr *address, socklen_t *length);
int shutdown(int fd, int how);
ssize_t recv(int fd, void *buffer, size_t length, int flags);
ssize_t send(int fd, const void *buffer, size_t length, int flags);
ssize_t sendmsg(int fd, const struct msghdr *message, int flags);

/* ---- epoll ---------------------------------------------------------------------------------------------------- */

int epoll_create1(int flags);
int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event);
int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout);

/* ---- Threads, CPUs, limits, time ------------------------------------------------------------------------------ */

int sched_setaffinity(pid_t pid, size_t setsize, const cpu_set_t *mask);
int sched_getaffinity(pid_t pid, size_t setsize, cpu_set_t *mask);
int sched_getcpu(void);
int getrlimit(int resource, struct rlimit *limit);
int setrlimit(int resource, const struct rlimit *limit);
pid_t getpid(void);
pid_t gettid(void);
long sysconf(int name);
int clock_gettime(clockid_t clock, struct timespec *time);

/* sysconf(3) names the runtime asks for. */
#define _SC_PAGESIZE         30
#define _SC_NPROCESSORS_CONF 83
#define _SC_NPROCESSORS_ONLN 84

#endif /* MINISS_LINUX_LIBC_H */
