/* Miniss's own declaration of the Darwin (macOS) libSystem functions that the kqueue backend calls. */
/*
 * Where each prototype was verified (xnu unless noted):
 *   kqueue, kevent, kevent64                               bsd/sys/event.h
 *   socket, bind, listen, accept, connect, setsockopt, getsockopt, getsockname, getpeername, shutdown
 *                                                          bsd/sys/socket.h
 *   readv, writev                                          bsd/sys/uio.h
 *   getrlimit, setrlimit                                   bsd/sys/resource.h
 *   mmap, munmap                                           bsd/sys/mman.h
 *   close, read, write, pread, pwrite, fsync, pipe, getpid, sysconf
 *                                                          Apple Libc include/unistd.h
 *   clock_gettime                                          Apple Libc include/time.h
 *
 * Symbol names: several of these carry __DARWIN_ALIAS / __DARWIN_ALIAS_C in Apple's headers. bsd/sys/cdefs.h makes
 * those add no suffix on x86_64 and arm64 macOS (only-UNIX-conformance targets, cancellable variants by default),
 * so each function is bound by its plain name on both targets.
 *
 * Deliberately absent: open, fcntl and ioctl. Apple declares them variadic: open(const char *, int, ...) and
 * fcntl(int, int, ...) in bsd/sys/fcntl.h, ioctl(int, unsigned long, ...) in bsd/sys/ioctl.h. On arm64 Apple's
 * calling convention passes every variadic argument on the stack, not in registers, so a binding with fixed
 * arguments would put the mode/argument in a register the callee never reads. The runtime needs small non-variadic
 * C shims for those calls; they are not declared here.
 */
#ifndef MINISS_DARWIN_LIBC_H
#define MINISS_DARWIN_LIBC_H

#include "base.h"
#include "event.h"
#include "socket.h"
#include "file.h"

/* kqueue */
int     kqueue(void);
int     kevent(int kq, const struct kevent *changelist, int nchanges,
               struct kevent *eventlist, int nevents, const struct timespec *timeout);
int     kevent64(int kq, const struct kevent64_s *changelist, int nchanges,
                 struct kevent64_s *eventlist, int nevents, unsigned int flags,
                 const struct timespec *timeout);

/* descriptors and I/O */
int     close(int fd);
ssize_t read(int fd, void *buf, size_t nbyte);
ssize_t write(int fd, const void *buf, size_t nbyte);
ssize_t pread(int fd, void *buf, size_t nbyte, off_t offset);
ssize_t pwrite(int fd, const void *buf, size_t nbyte, off_t offset);
ssize_t readv(int fd, const struct iovec *iov, int iovcnt);
ssize_t writev(int fd, const struct iovec *iov, int iovcnt);
int     fsync(int fd);
int     pipe(int *fds);         /* Apple writes int [2]; the parameter is a pointer to two ints either way */

/* sockets */
int     socket(int domain, int type, int protocol);
int     bind(int fd, const struct sockaddr *addr, socklen_t addrlen);
int     listen(int fd, int backlog);
int     accept(int fd, struct sockaddr *addr, socklen_t *addrlen);
int     connect(int fd, const struct sockaddr *addr, socklen_t addrlen);
int     setsockopt(int fd, int level, int name, const void *value, socklen_t len);
int     getsockopt(int fd, int level, int name, void *value, socklen_t *len);
int     getsockname(int fd, struct sockaddr *addr, socklen_t *addrlen);
int     getpeername(int fd, struct sockaddr *addr, socklen_t *addrlen);
int     shutdown(int fd, int how);

/* resource limits */
int     getrlimit(int resource, struct rlimit *rlp);
int     setrlimit(int resource, const struct rlimit *rlp);

/* memory */
void   *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t offset);
int     munmap(void *addr, size_t len);

/* process, time and configuration */
pid_t   getpid(void);
int     clock_gettime(clockid_t clock_id, struct timespec *tp);
long    sysconf(int name);

#endif /* MINISS_DARWIN_LIBC_H */
