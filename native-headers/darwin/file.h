/* Miniss's own declaration of the Darwin (macOS) file, memory-mapping, resource-limit and clock ABI. */
/*
 * Where each group was verified (xnu unless noted):
 *   O_* (O_SYNC from bsd/sys/_types/_o_sync.h, O_DSYNC from bsd/sys/_types/_o_dsync.h), F_*, FD_CLOEXEC
 *                                                  bsd/sys/fcntl.h
 *   SEEK_*                                         bsd/sys/_types/_seek_set.h
 *   PROT_*, MAP_*                                  bsd/sys/mman.h
 *   rlimit, RLIMIT_*, RLIM_INFINITY                bsd/sys/resource.h
 *   timespec                                       bsd/sys/_types/_timespec.h (tv_sec is __darwin_time_t, a long)
 *   clockid_t and CLOCK_*                          Apple Libc include/time.h (an enum, not macros of int)
 *   _SC_*                                          Apple Libc include/unistd.h
 */
#ifndef MINISS_DARWIN_FILE_H
#define MINISS_DARWIN_FILE_H

#include "base.h"

/* ---- Records ---------------------------------------------------------------------------------------------- */

/* 16 bytes. */
struct timespec {
    time_t  tv_sec;
    long    tv_nsec;
};

/* 16 bytes. */
struct rlimit {
    rlim_t  rlim_cur;   /* soft limit */
    rlim_t  rlim_max;   /* hard limit */
};

/* ---- open() flags ----------------------------------------------------------------------------------------- */

#define O_RDONLY        0x00000000
#define O_WRONLY        0x00000001
#define O_RDWR          0x00000002
#define O_NONBLOCK      0x00000004
#define O_APPEND        0x00000008
#define O_SYNC          0x00000080
#define O_NOFOLLOW      0x00000100
#define O_CREAT         0x00000200
#define O_TRUNC         0x00000400
#define O_EXCL          0x00000800
#define O_DIRECTORY     0x00100000
#define O_DSYNC         0x00400000
#define O_CLOEXEC       0x01000000

/* ---- fcntl() commands and descriptor flags ---------------------------------------------------------------- */

#define F_GETFD         1
#define F_SETFD         2
#define F_GETFL         3
#define F_SETFL         4
#define F_NOCACHE       48      /* Apple: turn data caching off (arg 1) or on (arg 0) for this descriptor */
#define F_FULLFSYNC     51      /* Apple: fsync and ask the drive to flush its own cache to the media */

#define FD_CLOEXEC      1

/* ---- lseek() whence --------------------------------------------------------------------------------------- */

#define SEEK_SET        0
#define SEEK_CUR        1
#define SEEK_END        2

/* ---- mmap() --------------------------------------------------------------------------------------------------- */

#define PROT_NONE       0x00
#define PROT_READ       0x01
#define PROT_WRITE      0x02
#define PROT_EXEC       0x04

#define MAP_SHARED      0x0001
#define MAP_PRIVATE     0x0002
#define MAP_FIXED       0x0010
#define MAP_ANON        0x1000
#define MAP_ANONYMOUS   MAP_ANON
/* MAP_FAILED is ((void *)-1); it is not declared here because it is not an integer constant. */

/* ---- Resource limits -------------------------------------------------------------------------------------- */

#define RLIMIT_MEMLOCK  6
#define RLIMIT_NOFILE   8

/* 2^63 - 1: the largest value of the low 63 bits of rlim_t. */
#define RLIM_INFINITY   ((((__uint64_t)1) << 63) - 1)

/* ---- Clocks ----------------------------------------------------------------------------------------------- */

/* Apple's clockid_t is an enumeration (available from macOS 10.12); its values are not Linux's. */
typedef enum {
    CLOCK_REALTIME              = 0,
    CLOCK_MONOTONIC_RAW         = 4,
    CLOCK_MONOTONIC_RAW_APPROX  = 5,
    CLOCK_MONOTONIC             = 6,
    CLOCK_UPTIME_RAW            = 8,
    CLOCK_UPTIME_RAW_APPROX     = 9,
    CLOCK_PROCESS_CPUTIME_ID    = 12,
    CLOCK_THREAD_CPUTIME_ID     = 16
} clockid_t;

/* ---- sysconf() names -------------------------------------------------------------------------------------- */

#define _SC_OPEN_MAX            5
#define _SC_PAGESIZE            29
#define _SC_PAGE_SIZE           _SC_PAGESIZE
#define _SC_IOV_MAX             56
#define _SC_NPROCESSORS_CONF    57
#define _SC_NPROCESSORS_ONLN    58

#endif /* MINISS_DARWIN_FILE_H */
