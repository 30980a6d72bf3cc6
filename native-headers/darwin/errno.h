/* Miniss's own declaration of the Darwin (macOS) errno values. */
/*
 * Verified against xnu bsd/sys/errno.h. Darwin numbers most network errors 35..66, unlike Linux. On both 64-bit
 * targets __DARWIN_UNIX03 is always 1, so EOPNOTSUPP is its own value (102), distinct from ENOTSUP (45), and the
 * values marked "full Darwin C level" below are visible in a default compilation.
 */
#ifndef MINISS_DARWIN_ERRNO_H
#define MINISS_DARWIN_ERRNO_H

#include "base.h"

#define EPERM           1
#define ENOENT          2
#define ESRCH           3
#define EINTR           4
#define EIO             5
#define ENXIO           6
#define E2BIG           7
#define EBADF           9
#define ECHILD          10
#define ENOMEM          12
#define EACCES          13
#define EFAULT          14
#define EBUSY           16
#define EEXIST          17
#define EXDEV           18
#define ENODEV          19
#define ENOTDIR         20
#define EISDIR          21
#define EINVAL          22
#define ENFILE          23
#define EMFILE          24
#define ENOTTY          25
#define EFBIG           27
#define ENOSPC          28
#define ESPIPE          29
#define EROFS           30
#define EMLINK          31
#define EPIPE           32
#define ERANGE          34

/* Non-blocking and in-progress operations. */
#define EAGAIN          35
#define EWOULDBLOCK     EAGAIN
#define EINPROGRESS     36
#define EALREADY        37

/* Socket argument errors. */
#define ENOTSOCK        38
#define EDESTADDRREQ    39
#define EMSGSIZE        40
#define EPROTOTYPE      41
#define ENOPROTOOPT     42
#define EPROTONOSUPPORT 43
#define ENOTSUP         45
#define EAFNOSUPPORT    47
#define EADDRINUSE      48
#define EADDRNOTAVAIL   49

/* Network operational errors. */
#define ENETDOWN        50
#define ENETUNREACH     51
#define ENETRESET       52
#define ECONNABORTED    53
#define ECONNRESET      54
#define ENOBUFS         55
#define EISCONN         56
#define ENOTCONN        57
#define ESHUTDOWN       58      /* full Darwin C level */
#define ETIMEDOUT       60
#define ECONNREFUSED    61
#define ELOOP           62
#define ENAMETOOLONG    63
#define EHOSTDOWN       64      /* full Darwin C level */
#define EHOSTUNREACH    65
#define ENOTEMPTY       66

#define ENOSYS          78
#define EOVERFLOW       84
#define ECANCELED       89
#define ENODATA         96
#define ETIME           101
#define EOPNOTSUPP      102

#endif /* MINISS_DARWIN_ERRNO_H */
