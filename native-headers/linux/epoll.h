/* Miniss's own declaration of the Linux epoll ABI (glibc names), verified by the test suite against the system headers. */
#ifndef MINISS_LINUX_EPOLL_H
#define MINISS_LINUX_EPOLL_H

#include "base.h"

/* Caller's cookie stored with a registered fd and handed back with its events. */
typedef union epoll_data {
    void    *ptr;
    int      fd;
    uint32_t u32;
    uint64_t u64;
} epoll_data_t;

/* One registration or one reported event. The x86_64 kernel ABI has no padding after 'events' (12 bytes, data at
   offset 4); aarch64 uses natural alignment (16 bytes, data at offset 8). */
#if defined(__x86_64__)
struct epoll_event {
    uint32_t     events;    /* EPOLL* event bits */
    epoll_data_t data;
} __attribute__((packed));
#elif defined(__aarch64__)
struct epoll_event {
    uint32_t     events;    /* EPOLL* event bits */
    epoll_data_t data;
};
#else
#error "unsupported architecture"
#endif

/* epoll_event.events: readiness bits (the poll(2) values) and registration options. */
#define EPOLLIN        0x00000001U
#define EPOLLPRI       0x00000002U
#define EPOLLOUT       0x00000004U
#define EPOLLERR       0x00000008U
#define EPOLLHUP       0x00000010U
#define EPOLLRDNORM    0x00000040U
#define EPOLLRDBAND    0x00000080U
#define EPOLLWRNORM    0x00000100U
#define EPOLLWRBAND    0x00000200U
#define EPOLLMSG       0x00000400U
#define EPOLLRDHUP     0x00002000U
#define EPOLLEXCLUSIVE 0x10000000U   /* wake only one of the epoll instances waiting on the fd */
#define EPOLLWAKEUP    0x20000000U   /* hold a wakeup source while events are pending */
#define EPOLLONESHOT   0x40000000U   /* disarm after one event; re-arm with EPOLL_CTL_MOD */
#define EPOLLET        0x80000000U   /* edge-triggered */

/* epoll_ctl(2) operations. */
#define EPOLL_CTL_ADD 1
#define EPOLL_CTL_DEL 2
#define EPOLL_CTL_MOD 3

/* epoll_create1(2) flag (the value of O_CLOEXEC). */
#define EPOLL_CLOEXEC 02000000

#endif /* MINISS_LINUX_EPOLL_H */
