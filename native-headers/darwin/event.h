/* Miniss's own declaration of the Darwin (macOS) kqueue ABI: kevent records, filters, flags and filter notes. */
/*
 * Every fact in this file was verified against xnu bsd/sys/event.h (the public, non-PRIVATE part). The kqueue,
 * kevent and kevent64 prototypes are in libc.h.
 */
#ifndef MINISS_DARWIN_EVENT_H
#define MINISS_DARWIN_EVENT_H

#include "base.h"

/* Filters (the kevent filter field), all negative. The gaps in the numbering are filters Apple does not publish. */
#define EVFILT_READ         (-1)
#define EVFILT_WRITE        (-2)
#define EVFILT_AIO          (-3)
#define EVFILT_VNODE        (-4)
#define EVFILT_PROC         (-5)
#define EVFILT_SIGNAL       (-6)
#define EVFILT_TIMER        (-7)
#define EVFILT_MACHPORT     (-8)
#define EVFILT_FS           (-9)
#define EVFILT_USER         (-10)
#define EVFILT_VM           (-12)
#define EVFILT_EXCEPT       (-15)

/*
 * struct kevent. Apple declares it under 4-byte packing. On LP64 that moves no field (ident 0, filter 8, flags 10,
 * fflags 12, data 16, udata 24; 32 bytes) but it lowers the struct's alignment to 4, so the packing is kept here.
 */
#pragma pack(push, 4)
struct kevent {
    uintptr_t   ident;      /* what the filter watches: a descriptor, pid, signal, timer id, ... */
    int16_t     filter;     /* one of EVFILT_* */
    uint16_t    flags;      /* EV_* actions in, EV_* status out */
    uint32_t    fflags;     /* filter-specific NOTE_* bits */
    intptr_t    data;       /* filter-specific value (bytes ready, timer period, errno with EV_ERROR, ...) */
    void       *udata;      /* caller's cookie, returned unchanged */
};
#pragma pack(pop)

/* struct kevent64_s: the fixed 64-bit form used by kevent64(); natural alignment, 48 bytes. */
struct kevent64_s {
    uint64_t    ident;
    int16_t     filter;
    uint16_t    flags;
    uint32_t    fflags;
    int64_t     data;
    uint64_t    udata;
    uint64_t    ext[2];     /* filter-specific extensions (e.g. timer leeway in ext[1] with NOTE_LEEWAY) */
};

/* Flags argument of kevent64() (and the other flag-taking kevent calls). */
#define KEVENT_FLAG_NONE            0x000000
#define KEVENT_FLAG_IMMEDIATE       0x000001    /* do not wait: zero timeout */
#define KEVENT_FLAG_ERROR_EVENTS    0x000002    /* output only the changes that failed */

/* kevent flags: actions. */
#define EV_ADD              0x0001
#define EV_DELETE           0x0002
#define EV_ENABLE           0x0004
#define EV_DISABLE          0x0008

/* kevent flags: modifiers. */
#define EV_ONESHOT          0x0010
#define EV_CLEAR            0x0020
#define EV_RECEIPT          0x0040
#define EV_DISPATCH         0x0080
#define EV_UDATA_SPECIFIC   0x0100
#define EV_DISPATCH2        (EV_DISPATCH | EV_UDATA_SPECIFIC)
#define EV_VANISHED         0x0200

/* kevent flags: reserved for the system, and the two filter-specific bits within that range. */
#define EV_SYSFLAGS         0xF000
#define EV_FLAG0            0x1000
#define EV_FLAG1            0x2000

/* kevent flags: status returned by the kernel. */
#define EV_EOF              0x8000
#define EV_ERROR            0x4000

/* EVFILT_READ-specific meanings of the filter-specific bits. */
#define EV_POLL             EV_FLAG0
#define EV_OOBAND           EV_FLAG1

/* EVFILT_USER fflags: trigger, and how the low 24 bits combine with the stored value (top two bits). */
#define NOTE_TRIGGER        0x01000000
#define NOTE_FFNOP          0x00000000
#define NOTE_FFAND          0x40000000
#define NOTE_FFOR           0x80000000
#define NOTE_FFCOPY         0xc0000000
#define NOTE_FFCTRLMASK     0xc0000000
#define NOTE_FFLAGSMASK     0x00ffffff

/* EVFILT_READ / EVFILT_WRITE fflags: data holds a low-water mark. */
#define NOTE_LOWAT          0x00000001

/* EVFILT_EXCEPT fflags: out-of-band data. */
#define NOTE_OOB            0x00000002

/* EVFILT_TIMER fflags: unit of data (milliseconds when none is set), and timer behaviour. */
#define NOTE_SECONDS                0x00000001
#define NOTE_USECONDS               0x00000002
#define NOTE_NSECONDS               0x00000004
#define NOTE_ABSOLUTE               0x00000008
#define NOTE_LEEWAY                 0x00000010
#define NOTE_CRITICAL               0x00000020
#define NOTE_BACKGROUND             0x00000040
#define NOTE_MACH_CONTINUOUS_TIME   0x00000080
#define NOTE_MACHTIME               0x00000100

#endif /* MINISS_DARWIN_EVENT_H */
