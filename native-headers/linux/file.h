/* Miniss's own declaration of the Linux file, memory, limit and clock ABI, verified by the test suite against the system headers. */
#ifndef MINISS_LINUX_FILE_H
#define MINISS_LINUX_FILE_H

#include "base.h"

/* ---- Records -------------------------------------------------------------------------------------------------- */

/* A time as glibc's struct timespec (clock_gettime(2)). */
struct timespec {
    time_t tv_sec;
    long   tv_nsec;
};

/* A time in a statx reply. */
struct statx_timestamp {
    __s64 tv_sec;
    __u32 tv_nsec;
    __s32 __reserved;
};

/* statx(2) reply (256 bytes). Fields not flagged in stx_mask are not valid. */
struct statx {
    __u32 stx_mask;               /* STATX_* bits actually filled in */
    __u32 stx_blksize;
    __u64 stx_attributes;         /* STATX_ATTR_* */
    __u32 stx_nlink;              /* offset 0x10 */
    __u32 stx_uid;
    __u32 stx_gid;
    __u16 stx_mode;
    __u16 __spare0[1];
    __u64 stx_ino;                /* offset 0x20 */
    __u64 stx_size;
    __u64 stx_blocks;             /* in 512-byte units */
    __u64 stx_attributes_mask;    /* which STATX_ATTR_* bits the filesystem supports */
    struct statx_timestamp stx_atime;   /* offset 0x40 */
    struct statx_timestamp stx_btime;
    struct statx_timestamp stx_ctime;
    struct statx_timestamp stx_mtime;
    __u32 stx_rdev_major;         /* offset 0x80 */
    __u32 stx_rdev_minor;
    __u32 stx_dev_major;
    __u32 stx_dev_minor;
    __u64 stx_mnt_id;             /* offset 0x90 */
    __u32 stx_dio_mem_align;      /* O_DIRECT buffer alignment (STATX_DIOALIGN) */
    __u32 stx_dio_offset_align;   /* O_DIRECT file offset and length alignment (STATX_DIOALIGN) */
    __u64 __spare3[12];           /* offset 0xa0, up to 0x100 */
};

/* getrlimit(2) / setrlimit(2) value. */
struct rlimit {
    rlim_t rlim_cur;
    rlim_t rlim_max;
};

/* CPU affinity mask of CPU_SETSIZE bits (128 bytes), as glibc declares it: a typedef of an unnamed struct. */
#define CPU_SETSIZE 1024
typedef struct {
    __cpu_mask __bits[CPU_SETSIZE / (8 * sizeof(__cpu_mask))];
} cpu_set_t;

/* ---- open(2) flags -------------------------------------------------------------------------------------------- */

#define O_RDONLY   00000000
#define O_WRONLY   00000001
#define O_RDWR     00000002
#define O_CREAT    00000100
#define O_EXCL     00000200
#define O_NOCTTY   00000400
#define O_TRUNC    00001000
#define O_APPEND   00002000
#define O_NONBLOCK 00004000
#define O_DSYNC    00010000
#define O_NOATIME  01000000
#define O_CLOEXEC  02000000
#define O_SYNC     04010000      /* includes O_DSYNC */
#define O_PATH     010000000

/* arm64 moves these three bits; x86_64 keeps the generic values. */
#if defined(__x86_64__)
#define O_DIRECT    0040000
#define O_DIRECTORY 0200000
#define O_NOFOLLOW  0400000
#elif defined(__aarch64__)
#define O_DIRECT    0200000
#define O_DIRECTORY 0040000
#define O_NOFOLLOW  0100000
#else
#error "unsupported architecture"
#endif

#define O_TMPFILE  (020000000 | O_DIRECTORY)

/* ---- *at() directory fd and flags ----------------------------------------------------------------------------- */

#define AT_FDCWD              (-100)     /* dirfd meaning the current directory */
#define AT_SYMLINK_NOFOLLOW   0x100
#define AT_REMOVEDIR          0x200      /* unlinkat(2): remove a directory */
#define AT_EMPTY_PATH         0x1000     /* an empty path means dirfd itself */
#define AT_STATX_SYNC_TYPE    0x6000     /* mask of the three statx sync modes below */
#define AT_STATX_SYNC_AS_STAT 0x0000
#define AT_STATX_FORCE_SYNC   0x2000
#define AT_STATX_DONT_SYNC    0x4000

/* ---- statx(2) ------------------------------------------------------------------------------------------------- */

/* Request mask / stx_mask bits. */
#define STATX_TYPE        0x00000001U
#define STATX_MODE        0x00000002U
#define STATX_NLINK       0x00000004U
#define STATX_UID         0x00000008U
#define STATX_GID         0x00000010U
#define STATX_ATIME       0x00000020U
#define STATX_MTIME       0x00000040U
#define STATX_CTIME       0x00000080U
#define STATX_INO         0x00000100U
#define STATX_SIZE        0x00000200U
#define STATX_BLOCKS      0x00000400U
#define STATX_BASIC_STATS 0x000007ffU    /* everything struct stat has */
#define STATX_BTIME       0x00000800U
#define STATX_ALL         0x00000fffU    /* deprecated spelling of STATX_BASIC_STATS | STATX_BTIME */
#define STATX_MNT_ID      0x00001000U
#define STATX_DIOALIGN    0x00002000U
#define STATX__RESERVED   0x80000000U

/* stx_attributes / stx_attributes_mask bits. */
#define STATX_ATTR_COMPRESSED 0x00000004
#define STATX_ATTR_IMMUTABLE  0x00000010
#define STATX_ATTR_APPEND     0x00000020
#define STATX_ATTR_NODUMP     0x00000040
#define STATX_ATTR_ENCRYPTED  0x00000800
#define STATX_ATTR_AUTOMOUNT  0x00001000
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#define STATX_ATTR_VERITY     0x00100000
#define STATX_ATTR_DAX        0x00200000

/* ---- fallocate(2) modes and preadv2/pwritev2 (and io_uring rw_flags) flags ------------------------------------ */

#define FALLOC_FL_KEEP_SIZE  0x01
#define FALLOC_FL_PUNCH_HOLE 0x02        /* must be or-ed with FALLOC_FL_KEEP_SIZE */
#define FALLOC_FL_ZERO_RANGE 0x10

#define RWF_HIPRI  0x00000001
#define RWF_DSYNC  0x00000002
#define RWF_SYNC   0x00000004
#define RWF_NOWAIT 0x00000008
#define RWF_APPEND 0x00000010

/* ---- eventfd(2) flags ----------------------------------------------------------------------------------------- */

#define EFD_SEMAPHORE 00000001
#define EFD_NONBLOCK  00004000           /* O_NONBLOCK */
#define EFD_CLOEXEC   02000000           /* O_CLOEXEC */

/* ---- mmap(2) and madvise(2) ----------------------------------------------------------------------------------- */

#define PROT_NONE  0x0
#define PROT_READ  0x1
#define PROT_WRITE 0x2

#define MAP_SHARED    0x01
#define MAP_PRIVATE   0x02
#define MAP_FIXED     0x10
#define MAP_ANONYMOUS 0x20
#define MAP_NORESERVE 0x04000
#define MAP_POPULATE  0x08000
#define MAP_HUGETLB   0x40000

#define MADV_DONTFORK 10
#define MADV_HUGEPAGE 14

/* ---- Resource limits ------------------------------------------------------------------------------------------ */

#define RLIMIT_NOFILE  7
#define RLIMIT_MEMLOCK 8
#define RLIM_INFINITY  (~0UL)            /* rlim_t with every bit set */

/* ---- Clocks --------------------------------------------------------------------------------------------------- */

#define CLOCK_REALTIME  0
#define CLOCK_MONOTONIC 1
#define CLOCK_BOOTTIME  7

/* ---- fcntl(2) commands and lseek(2) origins ------------------------------------------------------------------- */

#define F_GETFD    1
#define F_SETFD    2
#define F_GETFL    3
#define F_SETFL    4
#define FD_CLOEXEC 1

#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2

#endif /* MINISS_LINUX_FILE_H */
