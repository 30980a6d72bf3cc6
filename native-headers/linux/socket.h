/* Miniss's own declaration of the Linux socket ABI (glibc names), verified by the test suite against the system headers. */
#ifndef MINISS_LINUX_SOCKET_H
#define MINISS_LINUX_SOCKET_H

#include "base.h"

/* ---- Addresses ------------------------------------------------------------------------------------------------ */

/* Generic address header (16 bytes). */
struct sockaddr {
    sa_family_t sa_family;
    char        sa_data[14];
};

/* Space and alignment for any address family (128 bytes, 8-aligned). */
struct sockaddr_storage {
    sa_family_t   ss_family;
    char          __ss_padding[128 - sizeof(sa_family_t) - sizeof(unsigned long)];
    unsigned long __ss_align;
};

/* IPv4 address, network byte order. */
struct in_addr {
    in_addr_t s_addr;
};

/* AF_INET address (16 bytes); port and address in network byte order. */
struct sockaddr_in {
    sa_family_t    sin_family;
    in_port_t      sin_port;
    struct in_addr sin_addr;
    unsigned char  sin_zero[8];
};

/* IPv6 address: 16 bytes, 4-aligned. glibc wraps the three views in a union member named __in6_u and reaches them
   through the macros s6_addr, s6_addr16 and s6_addr32; here the union is anonymous and its members carry the macro
   names, so the same layout is reached by the same spelling (offsetof(struct in6_addr, s6_addr) is valid C against
   either header) and the C# struct gets fields named s6_addr, s6_addr16, s6_addr32, all at offset 0. */
struct in6_addr {
    union {
        uint8_t  s6_addr[16];
        uint16_t s6_addr16[8];
        uint32_t s6_addr32[4];
    };
};

/* AF_INET6 address (28 bytes); port and flow info in network byte order. */
struct sockaddr_in6 {
    sa_family_t     sin6_family;
    in_port_t       sin6_port;
    uint32_t        sin6_flowinfo;
    struct in6_addr sin6_addr;
    uint32_t        sin6_scope_id;
};

/* AF_UNIX address (110 bytes); sun_path is a path, or an abstract name when it starts with a NUL byte. */
struct sockaddr_un {
    sa_family_t sun_family;
    char        sun_path[108];
};

/* ---- Scatter/gather and messages ------------------------------------------------------------------------------ */

struct iovec {
    void  *iov_base;
    size_t iov_len;
};

/* sendmsg(2) / recvmsg(2) argument. */
struct msghdr {
    void         *msg_name;        /* optional address */
    socklen_t     msg_namelen;
    struct iovec *msg_iov;
    size_t        msg_iovlen;
    void         *msg_control;     /* ancillary data */
    size_t        msg_controllen;
    int           msg_flags;       /* MSG_* flags of a received message */
};

/* SO_LINGER option value. */
struct linger {
    int l_onoff;
    int l_linger;                  /* seconds */
};

/* ---- Constants ------------------------------------------------------------------------------------------------ */

/* Address families. */
#define AF_UNSPEC 0
#define AF_UNIX   1
#define AF_INET   2
#define AF_INET6  10

/* Socket types, and flags that may be or-ed into the type argument of socket(2) and the flags of accept4(2). */
#define SOCK_STREAM   1
#define SOCK_DGRAM    2
#define SOCK_NONBLOCK 00004000   /* O_NONBLOCK */
#define SOCK_CLOEXEC  02000000   /* O_CLOEXEC */

/* Socket-level options. */
#define SOL_SOCKET   1
#define SO_REUSEADDR 2
#define SO_TYPE      3
#define SO_ERROR     4
#define SO_SNDBUF    7
#define SO_RCVBUF    8
#define SO_KEEPALIVE 9
#define SO_LINGER    13
#define SO_REUSEPORT 15

/* Protocol levels. */
#define IPPROTO_IP   0
#define IPPROTO_TCP  6
#define IPPROTO_IPV6 41

/* IPPROTO_IPV6 option. */
#define IPV6_V6ONLY 26

/* IPPROTO_TCP options. */
#define TCP_NODELAY   1
#define TCP_KEEPIDLE  4
#define TCP_KEEPINTVL 5
#define TCP_KEEPCNT   6

/* send/recv flags. */
#define MSG_PEEK     0x00000002
#define MSG_CTRUNC   0x00000008
#define MSG_TRUNC    0x00000020
#define MSG_DONTWAIT 0x00000040
#define MSG_WAITALL  0x00000100
#define MSG_NOSIGNAL 0x00004000
#define MSG_MORE     0x00008000
#define MSG_ZEROCOPY 0x04000000

/* shutdown(2) directions. */
#define SHUT_RD   0
#define SHUT_WR   1
#define SHUT_RDWR 2

/* listen(2) backlog ceiling as glibc states it. */
#define SOMAXCONN 4096

/* IPv4 addresses in host byte order. */
#define INADDR_ANY      ((in_addr_t)0x00000000)
#define INADDR_LOOPBACK ((in_addr_t)0x7f000001)

#endif /* MINISS_LINUX_SOCKET_H */
