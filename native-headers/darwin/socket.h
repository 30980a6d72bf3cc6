/* Miniss's own declaration of the Darwin (macOS) BSD sockets ABI: address records, options and flags. */
/*
 * Darwin differs from Linux throughout: every sockaddr begins with a length byte (sa_len/sin_len/...), sa_family_t is
 * 8 bits, AF_INET6 is 30, SOL_SOCKET is 0xffff, and the SO_* values are BSD's.
 *
 * Where each group was verified (xnu unless noted):
 *   sockaddr, sockaddr_storage, msghdr, linger, SOCK_*, SO_*, SOL_SOCKET, AF_*, MSG_*, SHUT_*, SOMAXCONN
 *                                                      bsd/sys/socket.h
 *   iovec                                              bsd/sys/_types/_iovec_t.h
 *   in_addr, sockaddr_in, IPPROTO_*, INADDR_*          bsd/netinet/in.h
 *   in6_addr, sockaddr_in6, IPV6_V6ONLY                bsd/netinet6/in6.h (included by netinet/in.h)
 *   sockaddr_un                                        bsd/sys/un.h
 *   TCP_*                                              bsd/netinet/tcp.h
 * The values are those seen by a default (not strict-POSIX) compilation, which is what libSystem's callers get.
 */
#ifndef MINISS_DARWIN_SOCKET_H
#define MINISS_DARWIN_SOCKET_H

#include "base.h"

/* ---- Records ---------------------------------------------------------------------------------------------- */

/* Scatter/gather element (readv/writev, msghdr). 16 bytes. */
struct iovec {
    void       *iov_base;
    size_t      iov_len;
};

/* Generic socket address: length byte, family byte, then up to 14 bytes of address. 16 bytes. */
struct sockaddr {
    __uint8_t   sa_len;
    sa_family_t sa_family;
    char        sa_data[14];
};

/*
 * Storage large enough and aligned enough for any address: 128 bytes, 8-byte aligned. The first pad fills the
 * length and family bytes up to the 8-byte alignment field (8 - 1 - 1 = 6 bytes); the second fills the rest
 * (128 - 1 - 1 - 6 - 8 = 112 bytes).
 */
struct sockaddr_storage {
    __uint8_t   ss_len;
    sa_family_t ss_family;
    char        __ss_pad1[6];
    __int64_t   __ss_align;
    char        __ss_pad2[112];
};

/* IPv4 address, network byte order. */
struct in_addr {
    in_addr_t   s_addr;
};

/* IPv4 socket address. 16 bytes. */
struct sockaddr_in {
    __uint8_t       sin_len;
    sa_family_t     sin_family;
    in_port_t       sin_port;       /* network byte order */
    struct in_addr  sin_addr;
    char            sin_zero[8];
};

/* IPv6 address: 16 bytes viewed as bytes, 16-bit words or 32-bit words (so 4-byte aligned). */
typedef struct in6_addr {
    union {
        __uint8_t   __u6_addr8[16];
        __uint16_t  __u6_addr16[8];
        __uint32_t  __u6_addr32[4];
    } __u6_addr;
} in6_addr_t;

#define s6_addr __u6_addr.__u6_addr8

/* IPv6 socket address. 28 bytes, 4-byte aligned. */
struct sockaddr_in6 {
    __uint8_t       sin6_len;
    sa_family_t     sin6_family;
    in_port_t       sin6_port;      /* network byte order */
    __uint32_t      sin6_flowinfo;
    struct in6_addr sin6_addr;
    __uint32_t      sin6_scope_id;
};

/* Unix-domain socket address: the path holds at most 104 bytes including its terminator. 106 bytes. */
struct sockaddr_un {
    unsigned char   sun_len;
    sa_family_t     sun_family;
    char            sun_path[104];
};

/* sendmsg/recvmsg header. 48 bytes on LP64; note msg_iovlen is an int, not a size_t as on Linux. */
struct msghdr {
    void           *msg_name;
    socklen_t       msg_namelen;
    struct iovec   *msg_iov;
    int             msg_iovlen;
    void           *msg_control;
    socklen_t       msg_controllen;
    int             msg_flags;
};

/* SO_LINGER / SO_LINGER_SEC argument. */
struct linger {
    int l_onoff;
    int l_linger;
};

/* ---- Address families and socket types -------------------------------------------------------------------- */

#define AF_UNSPEC       0
#define AF_UNIX         1
#define AF_INET         2
#define AF_INET6        30

#define SOCK_STREAM     1
#define SOCK_DGRAM      2

/* ---- Socket-level options (level SOL_SOCKET) -------------------------------------------------------------- */

#define SOL_SOCKET      0xffff

#define SO_REUSEADDR    0x0004
#define SO_KEEPALIVE    0x0008
/* SO_LINGER in the default compilation (l_linger in clock ticks); strict POSIX builds get 0x1080 under this name. */
#define SO_LINGER       0x0080
#define SO_LINGER_SEC   0x1080      /* same option with l_linger in seconds */
#define SO_REUSEPORT    0x0200
#define SO_SNDBUF       0x1001
#define SO_RCVBUF       0x1002
#define SO_ERROR        0x1007
#define SO_TYPE         0x1008
#define SO_NOSIGPIPE    0x1022      /* Apple: fail with EPIPE instead of raising SIGPIPE */

/* ---- Protocols and protocol-level options ----------------------------------------------------------------- */

#define IPPROTO_IP      0
#define IPPROTO_TCP     6
#define IPPROTO_UDP     17
#define IPPROTO_IPV6    41

#define IPV6_V6ONLY     27

#define TCP_NODELAY     0x01
#define TCP_KEEPALIVE   0x10        /* idle seconds before keepalive probes (Linux calls this TCP_KEEPIDLE) */
#define TCP_KEEPINTVL   0x101
#define TCP_KEEPCNT     0x102

/* ---- send/recv flags -------------------------------------------------------------------------------------- */

#define MSG_OOB         0x1
#define MSG_PEEK        0x2
#define MSG_EOR         0x8
#define MSG_TRUNC       0x10
#define MSG_CTRUNC      0x20
#define MSG_WAITALL     0x40
#define MSG_DONTWAIT    0x80

/* ---- shutdown() how --------------------------------------------------------------------------------------- */

#define SHUT_RD         0
#define SHUT_WR         1
#define SHUT_RDWR       2

/* ---- Limits and well-known addresses ---------------------------------------------------------------------- */

#define SOMAXCONN       128

/* Host byte order, as in the system header: convert with a byte swap before storing in sin_addr. */
#define INADDR_ANY      ((in_addr_t)0x00000000)
#define INADDR_LOOPBACK ((in_addr_t)0x7f000001)

#endif /* MINISS_DARWIN_SOCKET_H */
