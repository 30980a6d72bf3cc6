/* Miniss's own declaration of the Darwin (macOS) base C types that the other headers of this folder build on. */
/*
 * Targets: x86_64-apple-darwin and arm64-apple-darwin, both LP64. Every type below has the same width on the two
 * architectures; the checks here only refuse anything else.
 *
 * Verified against xnu: bsd/i386/_types.h and bsd/arm/_types.h (the __intN_t/__uintN_t widths, int64 is long long,
 * ssize_t and time_t are long, socklen_t is a 32-bit unsigned), bsd/sys/_types.h (mode_t 16-bit unsigned, off_t
 * 64-bit signed, pid_t 32-bit signed), bsd/sys/_types/_sa_family_t.h (sa_family_t is 8 bits, since every Darwin
 * sockaddr starts with a length byte), bsd/sys/_types/_in_port_t.h, bsd/sys/_types/_in_addr_t.h,
 * bsd/sys/resource.h (rlim_t is a 64-bit unsigned).
 */
#ifndef MINISS_DARWIN_BASE_H
#define MINISS_DARWIN_BASE_H

#if !defined(__APPLE__) || !defined(__MACH__)
#error "native-headers/darwin is for the *-apple-darwin targets only"
#endif

#if defined(__x86_64__)
/* x86_64-apple-darwin: LP64, nothing differs from arm64 in these headers. */
#elif defined(__arm64__) || defined(__aarch64__)
/* arm64-apple-darwin: LP64, nothing differs from x86_64 in these headers. */
#else
#error "native-headers/darwin supports x86_64 and arm64 only"
#endif

#if __SIZEOF_POINTER__ != 8 || __SIZEOF_LONG__ != 8 || __SIZEOF_INT__ != 4
#error "native-headers/darwin assumes an LP64 data model"
#endif

/* Exact-width integers, spelled the way Darwin's machine headers spell them. */
typedef signed char         __int8_t;
typedef unsigned char       __uint8_t;
typedef short               __int16_t;
typedef unsigned short      __uint16_t;
typedef int                 __int32_t;
typedef unsigned int        __uint32_t;
typedef long long           __int64_t;
typedef unsigned long long  __uint64_t;

typedef __int8_t            int8_t;
typedef __uint8_t           uint8_t;
typedef __int16_t           int16_t;
typedef __uint16_t          uint16_t;
typedef __int32_t           int32_t;
typedef __uint32_t          uint32_t;
typedef __int64_t           int64_t;
typedef __uint64_t          uint64_t;

/* Pointer-sized integers. */
typedef long                intptr_t;
typedef unsigned long       uintptr_t;
typedef __SIZE_TYPE__       size_t;
typedef long                ssize_t;

/* POSIX scalar types. */
typedef __int64_t           off_t;
typedef __int32_t           pid_t;
typedef __uint16_t          mode_t;
typedef long                time_t;
typedef __uint64_t          rlim_t;

/* Socket scalar types. */
typedef __uint32_t          socklen_t;
typedef __uint8_t           sa_family_t;
typedef __uint16_t          in_port_t;
typedef __uint32_t          in_addr_t;

#endif /* MINISS_DARWIN_BASE_H */
