/* Miniss's own declaration of the Linux 6.18 (long-term) io_uring ABI, verified by the test suite against kernel
   user-space headers at least that new (see native-headers/README.md). */
#ifndef MINISS_LINUX_IO_URING_H
#define MINISS_LINUX_IO_URING_H

#include "base.h"

/* ---- System call numbers (the same on x86_64 and aarch64) ----------------------------------------------------- */

#define __NR_io_uring_setup    425
#define __NR_io_uring_enter    426
#define __NR_io_uring_register 427

/* ---- Time and path-resolution records shared with other syscalls ---------------------------------------------- */

/* 64-bit timespec used by the kernel for timeouts (<linux/time_types.h>). */
struct __kernel_timespec {
    __kernel_time64_t tv_sec;
    long long         tv_nsec;
};

/* openat2(2) / IORING_OP_OPENAT2 argument (<linux/openat2.h>). */
struct open_how {
    __u64 flags;    /* O_* */
    __u64 mode;     /* permission bits for O_CREAT / O_TMPFILE */
    __u64 resolve;  /* RESOLVE_* */
};

/* open_how.resolve flags. */
#define RESOLVE_NO_XDEV       0x01
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS   0x04
#define RESOLVE_BENEATH       0x08
#define RESOLVE_IN_ROOT       0x10
#define RESOLVE_CACHED        0x20

/* ---- Submission queue entry (64 bytes; 128 with IORING_SETUP_SQE128) ------------------------------------------ */

struct io_uring_sqe {
    __u8  opcode;               /* IORING_OP_* */
    __u8  flags;                /* IOSQE_* */
    __u16 ioprio;               /* request priority, or per-opcode flags (IORING_RECVSEND_*, IORING_ACCEPT_*) */
    __s32 fd;
    union {                     /* offset 8 */
        __u64 off;
        __u64 addr2;
        struct {
            __u32 cmd_op;
            __u32 __pad1;
        };
    };
    union {                     /* offset 16 */
        __u64 addr;
        __u64 splice_off_in;
        struct {                /* socket option commands of IORING_OP_URING_CMD (6.7) */
            __u32 level;
            __u32 optname;
        };
    };
    __u32 len;                  /* offset 24 */
    union {                     /* offset 28: the opcode's flags word */
        __u32 rw_flags;
        __u32 fsync_flags;
        __u16 poll_events;
        __u32 poll32_events;
        __u32 sync_range_flags;
        __u32 msg_flags;
        __u32 timeout_flags;
        __u32 accept_flags;
        __u32 cancel_flags;
        __u32 open_flags;
        __u32 statx_flags;
        __u32 fadvise_advice;
        __u32 splice_flags;
        __u32 rename_flags;
        __u32 unlink_flags;
        __u32 hardlink_flags;
        __u32 xattr_flags;
        __u32 msg_ring_flags;
        __u32 uring_cmd_flags;
        __u32 waitid_flags;     /* 6.7 */
        __u32 futex_flags;      /* 6.7 */
        __u32 install_fd_flags; /* 6.8: IORING_FIXED_FD_* */
        __u32 nop_flags;        /* 6.11 */
        __u32 pipe_flags;       /* 6.16 */
    };
    __u64 user_data;            /* offset 32: returned unchanged in the completion */
    union {                     /* offset 40 (packed in the kernel header only for arm OABI; same layout here) */
        __u16 buf_index;        /* fixed buffer index */
        __u16 buf_group;        /* provided-buffer group */
    };
    __u16 personality;          /* offset 42 */
    union {                     /* offset 44 */
        __s32 splice_fd_in;
        __u32 file_index;
        __u32 zcrx_ifq_idx;     /* 6.15: zero-copy receive interface queue */
        __u32 optlen;           /* 6.7: socket option commands */
        struct {
            __u16 addr_len;
            __u16 __pad3[1];
        };
        struct {                /* 6.16 */
            __u8 write_stream;
            __u8 __pad4[3];
        };
    };
    union {                     /* offset 48 */
        struct {
            __u64 addr3;
            __u64 __pad2[1];
        };
        struct {                /* 6.14: read/write attributes (IORING_RW_ATTR_*) */
            __u64 attr_ptr;
            __u64 attr_type_mask;
        };
        __u64 optval;           /* 6.7: socket option commands */
        __u8 cmd[0];            /* 80 bytes of command data with IORING_SETUP_SQE128 */
    };
};

/* io_uring_sqe.file_index: let the kernel pick a free direct descriptor. */
#define IORING_FILE_INDEX_ALLOC (~0U)

/* Bit numbers of the io_uring_sqe.flags bits. */
enum {
    IOSQE_FIXED_FILE_BIT       = 0,
    IOSQE_IO_DRAIN_BIT         = 1,
    IOSQE_IO_LINK_BIT          = 2,
    IOSQE_IO_HARDLINK_BIT      = 3,
    IOSQE_ASYNC_BIT            = 4,
    IOSQE_BUFFER_SELECT_BIT    = 5,
    IOSQE_CQE_SKIP_SUCCESS_BIT = 6,
};

/* io_uring_sqe.flags. */
#define IOSQE_FIXED_FILE       (1U << IOSQE_FIXED_FILE_BIT)       /* fd is an index into the registered files */
#define IOSQE_IO_DRAIN         (1U << IOSQE_IO_DRAIN_BIT)         /* start only after all earlier requests */
#define IOSQE_IO_LINK          (1U << IOSQE_IO_LINK_BIT)          /* next sqe runs after this one succeeds */
#define IOSQE_IO_HARDLINK      (1U << IOSQE_IO_HARDLINK_BIT)      /* next sqe runs after this one, whatever result */
#define IOSQE_ASYNC            (1U << IOSQE_ASYNC_BIT)            /* skip the inline attempt */
#define IOSQE_BUFFER_SELECT    (1U << IOSQE_BUFFER_SELECT_BIT)    /* pick a buffer from buf_group */
#define IOSQE_CQE_SKIP_SUCCESS (1U << IOSQE_CQE_SKIP_SUCCESS_BIT) /* post no cqe on success */

/* io_uring_setup(2) flags (io_uring_params.flags). */
#define IORING_SETUP_IOPOLL        (1U << 0)
#define IORING_SETUP_SQPOLL        (1U << 1)
#define IORING_SETUP_SQ_AFF        (1U << 2)
#define IORING_SETUP_CQSIZE        (1U << 3)
#define IORING_SETUP_CLAMP         (1U << 4)
#define IORING_SETUP_ATTACH_WQ     (1U << 5)
#define IORING_SETUP_R_DISABLED    (1U << 6)
#define IORING_SETUP_SUBMIT_ALL    (1U << 7)
#define IORING_SETUP_COOP_TASKRUN  (1U << 8)
#define IORING_SETUP_TASKRUN_FLAG  (1U << 9)
#define IORING_SETUP_SQE128        (1U << 10)
#define IORING_SETUP_CQE32         (1U << 11)
#define IORING_SETUP_SINGLE_ISSUER (1U << 12)
#define IORING_SETUP_DEFER_TASKRUN (1U << 13)
#define IORING_SETUP_NO_MMAP         (1U << 14)   /* 6.5: the application provides the ring memory */
#define IORING_SETUP_REGISTERED_FD_ONLY (1U << 15) /* 6.5: return a registered ring index, not a descriptor */
#define IORING_SETUP_NO_SQARRAY      (1U << 16)   /* 6.6: sqes are consumed in ring order, no index array */
#define IORING_SETUP_HYBRID_IOPOLL   (1U << 17)   /* 6.13: sleep before polling completions (with IOPOLL) */
#define IORING_SETUP_CQE_MIXED       (1U << 18)   /* 6.18: 16- and 32-byte cqes in one ring */

/* io_uring_sqe.opcode values. */
enum io_uring_op {
    IORING_OP_NOP              = 0,
    IORING_OP_READV            = 1,
    IORING_OP_WRITEV           = 2,
    IORING_OP_FSYNC            = 3,
    IORING_OP_READ_FIXED       = 4,
    IORING_OP_WRITE_FIXED      = 5,
    IORING_OP_POLL_ADD         = 6,
    IORING_OP_POLL_REMOVE      = 7,
    IORING_OP_SYNC_FILE_RANGE  = 8,
    IORING_OP_SENDMSG          = 9,
    IORING_OP_RECVMSG          = 10,
    IORING_OP_TIMEOUT          = 11,
    IORING_OP_TIMEOUT_REMOVE   = 12,
    IORING_OP_ACCEPT           = 13,
    IORING_OP_ASYNC_CANCEL     = 14,
    IORING_OP_LINK_TIMEOUT     = 15,
    IORING_OP_CONNECT          = 16,
    IORING_OP_FALLOCATE        = 17,
    IORING_OP_OPENAT           = 18,
    IORING_OP_CLOSE            = 19,
    IORING_OP_FILES_UPDATE     = 20,
    IORING_OP_STATX            = 21,
    IORING_OP_READ             = 22,
    IORING_OP_WRITE            = 23,
    IORING_OP_FADVISE          = 24,
    IORING_OP_MADVISE          = 25,
    IORING_OP_SEND             = 26,
    IORING_OP_RECV             = 27,
    IORING_OP_OPENAT2          = 28,
    IORING_OP_EPOLL_CTL        = 29,
    IORING_OP_SPLICE           = 30,
    IORING_OP_PROVIDE_BUFFERS  = 31,
    IORING_OP_REMOVE_BUFFERS   = 32,
    IORING_OP_TEE              = 33,
    IORING_OP_SHUTDOWN         = 34,
    IORING_OP_RENAMEAT         = 35,
    IORING_OP_UNLINKAT         = 36,
    IORING_OP_MKDIRAT          = 37,
    IORING_OP_SYMLINKAT        = 38,
    IORING_OP_LINKAT           = 39,
    IORING_OP_MSG_RING         = 40,
    IORING_OP_FSETXATTR        = 41,
    IORING_OP_SETXATTR         = 42,
    IORING_OP_FGETXATTR        = 43,
    IORING_OP_GETXATTR         = 44,
    IORING_OP_SOCKET           = 45,
    IORING_OP_URING_CMD        = 46,
    IORING_OP_SEND_ZC          = 47,
    IORING_OP_SENDMSG_ZC       = 48,
    IORING_OP_READ_MULTISHOT   = 49,    /* 6.7 */
    IORING_OP_WAITID           = 50,    /* 6.7 */
    IORING_OP_FUTEX_WAIT       = 51,    /* 6.7 */
    IORING_OP_FUTEX_WAKE       = 52,    /* 6.7 */
    IORING_OP_FUTEX_WAITV      = 53,    /* 6.7 */
    IORING_OP_FIXED_FD_INSTALL = 54,    /* 6.8 */
    IORING_OP_FTRUNCATE        = 55,    /* 6.9 */
    IORING_OP_BIND             = 56,    /* 6.11 */
    IORING_OP_LISTEN           = 57,    /* 6.11 */
    IORING_OP_RECV_ZC          = 58,    /* 6.15 */
    IORING_OP_EPOLL_WAIT       = 59,    /* 6.15 */
    IORING_OP_READV_FIXED      = 60,    /* 6.15 */
    IORING_OP_WRITEV_FIXED     = 61,    /* 6.15 */
    IORING_OP_PIPE             = 62,    /* 6.16 */
    IORING_OP_LAST             = 63,    /* one past the highest opcode this ABI version knows (grows with the kernel) */
};

/* io_uring_sqe.uring_cmd_flags. */
#define IORING_URING_CMD_FIXED (1U << 0)

/* io_uring_sqe.fsync_flags. */
#define IORING_FSYNC_DATASYNC (1U << 0)

/* io_uring_sqe.timeout_flags. */
#define IORING_TIMEOUT_ABS           (1U << 0)
#define IORING_TIMEOUT_UPDATE        (1U << 1)
#define IORING_TIMEOUT_BOOTTIME      (1U << 2)
#define IORING_TIMEOUT_REALTIME      (1U << 3)
#define IORING_LINK_TIMEOUT_UPDATE   (1U << 4)
#define IORING_TIMEOUT_ETIME_SUCCESS (1U << 5)
#define IORING_TIMEOUT_MULTISHOT     (1U << 6)   /* 6.4: fire every period, len times (0: until cancelled) */
#define IORING_TIMEOUT_CLOCK_MASK    (IORING_TIMEOUT_BOOTTIME | IORING_TIMEOUT_REALTIME)
#define IORING_TIMEOUT_UPDATE_MASK   (IORING_TIMEOUT_UPDATE | IORING_LINK_TIMEOUT_UPDATE)

/* io_uring_sqe.splice_flags: splice(2) flags plus this one (splice_fd_in is a fixed file). */
#define SPLICE_F_FD_IN_FIXED (1U << 31)

/* IORING_OP_POLL_ADD / POLL_REMOVE command flags, carried in io_uring_sqe.len. */
#define IORING_POLL_ADD_MULTI        (1U << 0)
#define IORING_POLL_UPDATE_EVENTS    (1U << 1)
#define IORING_POLL_UPDATE_USER_DATA (1U << 2)
#define IORING_POLL_ADD_LEVEL        (1U << 3)

/* IORING_OP_ASYNC_CANCEL flags (io_uring_sqe.cancel_flags, io_uring_sync_cancel_reg.flags). */
#define IORING_ASYNC_CANCEL_ALL      (1U << 0)
#define IORING_ASYNC_CANCEL_FD       (1U << 1)
#define IORING_ASYNC_CANCEL_ANY      (1U << 2)
#define IORING_ASYNC_CANCEL_FD_FIXED (1U << 3)
#define IORING_ASYNC_CANCEL_USERDATA (1U << 4)
#define IORING_ASYNC_CANCEL_OP       (1U << 5)

/* send/recv family flags, carried in io_uring_sqe.ioprio. */
#define IORING_RECVSEND_POLL_FIRST  (1U << 0)
#define IORING_RECV_MULTISHOT       (1U << 1)
#define IORING_RECVSEND_FIXED_BUF   (1U << 2)
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#define IORING_RECVSEND_BUNDLE      (1U << 4)   /* 6.10: with buffer select, use several buffers at once */

/* Set in the res of a zero-copy notification cqe (IORING_SEND_ZC_REPORT_USAGE) when the data was copied. */
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)

/* accept flags, carried in io_uring_sqe.ioprio. */
#define IORING_ACCEPT_MULTISHOT  (1U << 0)
#define IORING_ACCEPT_DONTWAIT   (1U << 1)   /* 6.10: fail with EAGAIN instead of waiting */
#define IORING_ACCEPT_POLL_FIRST (1U << 2)   /* 6.10: wait for a connection before the first attempt */

/* IORING_OP_MSG_RING commands, carried in io_uring_sqe.addr. */
enum {
    IORING_MSG_DATA    = 0,   /* post a cqe with res = len and user_data = off to the target ring */
    IORING_MSG_SEND_FD = 1,   /* install a fixed file in the target ring */
};

/* io_uring_sqe.msg_ring_flags. */
#define IORING_MSG_RING_CQE_SKIP   (1U << 0)
#define IORING_MSG_RING_FLAGS_PASS (1U << 1)   /* 6.3: the target cqe's flags are io_uring_sqe.file_index */

/* io_uring_sqe.install_fd_flags of IORING_OP_FIXED_FD_INSTALL. */
#define IORING_FIXED_FD_NO_CLOEXEC (1U << 0)

/* ---- Completion queue entry (16 bytes; 32 with IORING_SETUP_CQE32) -------------------------------------------- */

struct io_uring_cqe {
    __u64 user_data;    /* copied from the sqe */
    __s32 res;          /* result, or -errno */
    __u32 flags;        /* IORING_CQE_F_* */
    __u64 big_cqe[];    /* 16 more bytes with IORING_SETUP_CQE32 */
};

/* io_uring_cqe.flags. */
#define IORING_CQE_F_BUFFER        (1U << 0)   /* a provided buffer was used; id = flags >> IORING_CQE_BUFFER_SHIFT */
#define IORING_CQE_F_MORE          (1U << 1)   /* the request will post more cqes */
#define IORING_CQE_F_SOCK_NONEMPTY (1U << 2)   /* the socket had more data after this receive */
#define IORING_CQE_F_NOTIF         (1U << 3)   /* zero-copy send notification */
#define IORING_CQE_F_BUF_MORE      (1U << 4)   /* 6.12: the provided buffer will receive more data */
#define IORING_CQE_F_SKIP          (1U << 5)   /* 6.18: padding entry of a CQE_MIXED ring; skip it */
#define IORING_CQE_F_32            (1U << 15)  /* 6.18: this entry of a CQE_MIXED ring is 32 bytes */

enum {
    IORING_CQE_BUFFER_SHIFT = 16,
};

/* mmap(2) offsets of the ring regions on the io_uring fd. */
#define IORING_OFF_SQ_RING    0x00000000ULL
#define IORING_OFF_CQ_RING    0x08000000ULL
#define IORING_OFF_SQES       0x10000000ULL
#define IORING_OFF_MMAP_MASK  0xf8000000ULL

/* ---- Ring geometry, filled in by io_uring_setup(2) ------------------------------------------------------------ */

/* Byte offsets of the submission ring's fields inside its mapping. */
struct io_sqring_offsets {
    __u32 head;
    __u32 tail;
    __u32 ring_mask;
    __u32 ring_entries;
    __u32 flags;
    __u32 dropped;
    __u32 array;
    __u32 resv1;
    __u64 user_addr;    /* 6.5: ring memory with IORING_SETUP_NO_MMAP */
};

/* Submission ring flags word. */
#define IORING_SQ_NEED_WAKEUP (1U << 0)   /* the SQPOLL thread sleeps: enter with IORING_ENTER_SQ_WAKEUP */
#define IORING_SQ_CQ_OVERFLOW (1U << 1)   /* completions overflowed the cq ring */
#define IORING_SQ_TASKRUN     (1U << 2)   /* task work is pending: enter the kernel to run it */

/* Byte offsets of the completion ring's fields inside its mapping. */
struct io_cqring_offsets {
    __u32 head;
    __u32 tail;
    __u32 ring_mask;
    __u32 ring_entries;
    __u32 overflow;
    __u32 cqes;
    __u32 flags;
    __u32 resv1;
    __u64 user_addr;    /* 6.5: ring memory with IORING_SETUP_NO_MMAP */
};

/* Completion ring flags word. */
#define IORING_CQ_EVENTFD_DISABLED (1U << 0)

/* io_uring_enter(2) flags. */
#define IORING_ENTER_GETEVENTS       (1U << 0)
#define IORING_ENTER_SQ_WAKEUP       (1U << 1)
#define IORING_ENTER_SQ_WAIT         (1U << 2)
#define IORING_ENTER_EXT_ARG         (1U << 3)
#define IORING_ENTER_REGISTERED_RING (1U << 4)
#define IORING_ENTER_ABS_TIMER       (1U << 5)   /* 6.12: the wait timeout is an absolute time */
#define IORING_ENTER_EXT_ARG_REG     (1U << 6)   /* 6.13: the extended argument is in a registered region */
#define IORING_ENTER_NO_IOWAIT       (1U << 7)   /* 6.15: do not account the wait as iowait */

/* io_uring_setup(2) argument, updated in place by the kernel. */
struct io_uring_params {
    __u32 sq_entries;
    __u32 cq_entries;
    __u32 flags;            /* IORING_SETUP_* */
    __u32 sq_thread_cpu;
    __u32 sq_thread_idle;   /* milliseconds */
    __u32 features;         /* IORING_FEAT_*, set by the kernel */
    __u32 wq_fd;
    __u32 resv[3];
    struct io_sqring_offsets sq_off;
    struct io_cqring_offsets cq_off;
};

/* io_uring_params.features. */
#define IORING_FEAT_SINGLE_MMAP     (1U << 0)
#define IORING_FEAT_NODROP          (1U << 1)
#define IORING_FEAT_SUBMIT_STABLE   (1U << 2)
#define IORING_FEAT_RW_CUR_POS      (1U << 3)
#define IORING_FEAT_CUR_PERSONALITY (1U << 4)
#define IORING_FEAT_FAST_POLL       (1U << 5)
#define IORING_FEAT_POLL_32BITS     (1U << 6)
#define IORING_FEAT_SQPOLL_NONFIXED (1U << 7)
#define IORING_FEAT_EXT_ARG         (1U << 8)
#define IORING_FEAT_NATIVE_WORKERS  (1U << 9)
#define IORING_FEAT_RSRC_TAGS       (1U << 10)
#define IORING_FEAT_CQE_SKIP        (1U << 11)
#define IORING_FEAT_LINKED_FILE     (1U << 12)
#define IORING_FEAT_REG_REG_RING    (1U << 13)   /* 6.3 */
#define IORING_FEAT_RECVSEND_BUNDLE (1U << 14)   /* 6.10 */
#define IORING_FEAT_MIN_TIMEOUT     (1U << 15)   /* 6.12 */
#define IORING_FEAT_RW_ATTR         (1U << 16)   /* 6.14 */
#define IORING_FEAT_NO_IOWAIT       (1U << 17)   /* 6.15 */

/* ---- io_uring_register(2) ------------------------------------------------------------------------------------- */

/* Opcodes. */
enum {
    IORING_REGISTER_BUFFERS          = 0,
    IORING_UNREGISTER_BUFFERS        = 1,
    IORING_REGISTER_FILES            = 2,
    IORING_UNREGISTER_FILES          = 3,
    IORING_REGISTER_EVENTFD          = 4,
    IORING_UNREGISTER_EVENTFD        = 5,
    IORING_REGISTER_FILES_UPDATE     = 6,
    IORING_REGISTER_EVENTFD_ASYNC    = 7,
    IORING_REGISTER_PROBE            = 8,
    IORING_REGISTER_PERSONALITY      = 9,
    IORING_UNREGISTER_PERSONALITY    = 10,
    IORING_REGISTER_RESTRICTIONS     = 11,
    IORING_REGISTER_ENABLE_RINGS     = 12,
    IORING_REGISTER_FILES2           = 13,   /* the tagged variants take io_uring_rsrc_register / _update2 */
    IORING_REGISTER_FILES_UPDATE2    = 14,
    IORING_REGISTER_BUFFERS2         = 15,
    IORING_REGISTER_BUFFERS_UPDATE   = 16,
    IORING_REGISTER_IOWQ_AFF         = 17,
    IORING_UNREGISTER_IOWQ_AFF       = 18,
    IORING_REGISTER_IOWQ_MAX_WORKERS = 19,
    IORING_REGISTER_RING_FDS         = 20,
    IORING_UNREGISTER_RING_FDS       = 21,
    IORING_REGISTER_PBUF_RING        = 22,
    IORING_UNREGISTER_PBUF_RING      = 23,
    IORING_REGISTER_SYNC_CANCEL      = 24,
    IORING_REGISTER_FILE_ALLOC_RANGE = 25,
    IORING_REGISTER_PBUF_STATUS      = 26,   /* 6.8: io_uring_buf_status */
    IORING_REGISTER_NAPI             = 27,   /* 6.9: io_uring_napi */
    IORING_UNREGISTER_NAPI           = 28,
    IORING_REGISTER_CLOCK            = 29,   /* 6.12: io_uring_clock_register */
    IORING_REGISTER_CLONE_BUFFERS    = 30,   /* 6.12: io_uring_clone_buffers */
    IORING_REGISTER_SEND_MSG_RING    = 31,   /* 6.13: an IORING_OP_MSG_RING sqe sent without a ring */
    IORING_REGISTER_ZCRX_IFQ         = 32,   /* 6.15 */
    IORING_REGISTER_RESIZE_RINGS     = 33,   /* 6.13 */
    IORING_REGISTER_MEM_REGION       = 34,   /* 6.13: io_uring_mem_region_reg */
    IORING_REGISTER_QUERY            = 35,   /* 6.18 */
    IORING_REGISTER_LAST             = 36,   /* one past the highest opcode this ABI version knows (grows with the kernel) */
};

/* Indexes into the array of IORING_REGISTER_IOWQ_MAX_WORKERS. */
enum {
    IO_WQ_BOUND   = 0,
    IO_WQ_UNBOUND = 1,
};

/* IORING_REGISTER_FILES_UPDATE argument (superseded by io_uring_rsrc_update, same layout). */
struct io_uring_files_update {
    __u32         offset;
    __u32         resv;
    __aligned_u64 fds;      /* user pointer to __s32[] */
};

/* io_uring_rsrc_register.flags: register an all-empty table of nr slots. */
#define IORING_RSRC_REGISTER_SPARSE (1U << 0)

/* IORING_REGISTER_FILES2 / BUFFERS2 argument. */
struct io_uring_rsrc_register {
    __u32         nr;
    __u32         flags;    /* IORING_RSRC_* */
    __u64         resv2;
    __aligned_u64 data;     /* user pointer to fds or iovecs */
    __aligned_u64 tags;     /* user pointer to __u64 tags, or 0 */
};

/* IORING_REGISTER_FILES_UPDATE argument. */
struct io_uring_rsrc_update {
    __u32         offset;
    __u32         resv;
    __aligned_u64 data;
};

/* IORING_REGISTER_FILES_UPDATE2 / BUFFERS_UPDATE argument. */
struct io_uring_rsrc_update2 {
    __u32         offset;
    __u32         resv;
    __aligned_u64 data;
    __aligned_u64 tags;
    __u32         nr;
    __u32         resv2;
};

/* A file update entry with this value leaves the slot as it is. */
#define IORING_REGISTER_FILES_SKIP (-2)

/* io_uring_probe_op.flags. */
#define IO_URING_OP_SUPPORTED (1U << 0)

/* One opcode's entry in an IORING_REGISTER_PROBE reply. */
struct io_uring_probe_op {
    __u8  op;
    __u8  resv;
    __u16 flags;    /* IO_URING_OP_SUPPORTED */
    __u32 resv2;
};

/* IORING_REGISTER_PROBE argument; the caller sizes ops[] and the kernel fills it. */
struct io_uring_probe {
    __u8  last_op;
    __u8  ops_len;
    __u16 resv;
    __u32 resv2[3];
    struct io_uring_probe_op ops[];
};

/* IORING_REGISTER_RESTRICTIONS array element. */
struct io_uring_restriction {
    __u16 opcode;           /* IORING_RESTRICTION_* */
    union {
        __u8 register_op;
        __u8 sqe_op;
        __u8 sqe_flags;
    };
    __u8  resv;
    __u32 resv2[3];
};

/* io_uring_restriction.opcode values. */
enum {
    IORING_RESTRICTION_REGISTER_OP        = 0,
    IORING_RESTRICTION_SQE_OP             = 1,
    IORING_RESTRICTION_SQE_FLAGS_ALLOWED  = 2,
    IORING_RESTRICTION_SQE_FLAGS_REQUIRED = 3,
    IORING_RESTRICTION_LAST               = 4,
};

/* ---- Provided-buffer rings (IORING_REGISTER_PBUF_RING) -------------------------------------------------------- */

/* One buffer of a provided-buffer ring. */
struct io_uring_buf {
    __u64 addr;
    __u32 len;
    __u16 bid;
    __u16 resv;
};

/* The ring itself: an array of io_uring_buf whose first entry's resv field doubles as the ring tail. */
struct io_uring_buf_ring {
    union {
        struct {
            __u64 resv1;
            __u32 resv2;
            __u16 resv3;
            __u16 tail;
        };
        struct io_uring_buf bufs[0];
    };
};

/* io_uring_buf_reg.flags. */
enum {
    IOU_PBUF_RING_MMAP = 1,     /* 6.4: the kernel allocates the ring; map it at IORING_OFF_PBUF_RING */
    IOU_PBUF_RING_INC  = 2,     /* 6.12: buffers are consumed incrementally (IORING_CQE_F_BUF_MORE) */
};

/* IORING_REGISTER_PBUF_RING / UNREGISTER_PBUF_RING argument. */
struct io_uring_buf_reg {
    __u64 ring_addr;
    __u32 ring_entries;
    __u16 bgid;
    __u16 flags;        /* IOU_PBUF_RING_* (6.7) */
    __u32 min_left;
    __u32 resv[5];
};

/* ---- Other arguments ------------------------------------------------------------------------------------------ */

/* io_uring_enter(2) argument with IORING_ENTER_EXT_ARG. */
struct io_uring_getevents_arg {
    __u64 sigmask;      /* user pointer to a sigset, or 0 */
    __u32 sigmask_sz;
    __u32 min_wait_usec;    /* 6.12: wait at least this long for more than one completion */
    __u64 ts;           /* user pointer to a struct __kernel_timespec, or 0 */
};

/* IORING_REGISTER_SYNC_CANCEL argument. */
struct io_uring_sync_cancel_reg {
    __u64                    addr;      /* user_data to match */
    __s32                    fd;
    __u32                    flags;     /* IORING_ASYNC_CANCEL_* */
    struct __kernel_timespec timeout;   /* -1/-1 waits forever */
    __u8                     opcode;    /* 6.6: with IORING_ASYNC_CANCEL_OP */
    __u8                     pad[7];
    __u64                    pad2[3];
};

/* IORING_REGISTER_FILE_ALLOC_RANGE argument: slots [off, off + len) are used for IORING_FILE_INDEX_ALLOC. */
struct io_uring_file_index_range {
    __u32 off;
    __u32 len;
    __u64 resv;
};

/* IORING_REGISTER_PBUF_STATUS argument: the kernel's head of a provided-buffer ring. */
struct io_uring_buf_status {
    __u32 buf_group;    /* in */
    __u32 head;         /* out */
    __u32 resv[8];
};

/* IORING_REGISTER_NAPI / UNREGISTER_NAPI argument (busy polling of the network device queues). */
struct io_uring_napi {
    __u32 busy_poll_to;     /* microseconds */
    __u8  prefer_busy_poll;
    __u8  opcode;           /* 6.13: IO_URING_NAPI_* operation */
    __u8  pad[2];
    __u32 op_param;         /* 6.13: tracking strategy, or a NAPI id */
    __u32 resv;
};

/* IORING_REGISTER_CLOCK argument: the clock of wait timeouts. */
struct io_uring_clock_register {
    __u32 clockid;      /* CLOCK_MONOTONIC or CLOCK_BOOTTIME */
    __u32 __resv[3];
};

/* io_uring_clone_buffers.flags. */
enum {
    IORING_REGISTER_SRC_REGISTERED = (1U << 0),   /* src_fd is a registered ring index */
    IORING_REGISTER_DST_REPLACE    = (1U << 1),   /* 6.13: replace existing buffers in the destination */
};

/* IORING_REGISTER_CLONE_BUFFERS argument: share another ring's registered buffers. */
struct io_uring_clone_buffers {
    __u32 src_fd;
    __u32 flags;
    __u32 src_off;      /* 6.13 */
    __u32 dst_off;      /* 6.13 */
    __u32 nr;           /* 6.13 */
    __u32 pad[3];
};

/* io_uring_region_desc.flags. */
enum {
    IORING_MEM_REGION_TYPE_USER = 1,    /* the memory is at user_addr */
};

/* One memory region shared with the kernel (6.13). */
struct io_uring_region_desc {
    __u64 user_addr;
    __u64 size;
    __u32 flags;        /* IORING_MEM_REGION_TYPE_* */
    __u32 id;
    __u64 mmap_offset;  /* out, for kernel-allocated regions */
    __u64 __resv[4];
};

/* io_uring_mem_region_reg.flags. */
enum {
    IORING_MEM_REGION_REG_WAIT_ARG = 1,   /* the region holds registered wait arguments (IORING_ENTER_EXT_ARG_REG) */
};

/* IORING_REGISTER_MEM_REGION argument. */
struct io_uring_mem_region_reg {
    __u64 region_uptr;  /* user pointer to a struct io_uring_region_desc */
    __u64 flags;        /* IORING_MEM_REGION_REG_* */
    __u64 __resv[2];
};

/* Header the kernel writes at the start of each buffer of a multishot IORING_OP_RECVMSG. */
struct io_uring_recvmsg_out {
    __u32 namelen;
    __u32 controllen;
    __u32 payloadlen;
    __u32 flags;
};

#endif /* MINISS_LINUX_IO_URING_H */
