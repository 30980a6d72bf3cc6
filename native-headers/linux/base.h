/* Miniss's own declaration of the Linux base C types (LP64), verified by the test suite against the system headers. */
#ifndef MINISS_LINUX_BASE_H
#define MINISS_LINUX_BASE_H

/* Both Linux targets are LP64: int is 32 bits, long and pointers are 64 bits. */
#if !defined(__x86_64__) && !defined(__aarch64__)
#error "native-headers/linux describes x86_64 and aarch64 only"
#endif

/* Kernel UAPI fixed-width types (<linux/types.h> spelling). 64-bit ones are long long on every target. */
typedef signed char        __s8;
typedef unsigned char      __u8;
typedef short              __s16;
typedef unsigned short     __u16;
typedef int                __s32;
typedef unsigned int       __u32;
typedef long long          __s64;
typedef unsigned long long __u64;

/* A __u64 that keeps 8-byte alignment even inside 32-bit layouts (used for user pointers in UAPI records). */
typedef __u64 __aligned_u64 __attribute__((aligned(8)));

/* Seconds in the y2038-safe kernel time records. */
typedef long long __kernel_time64_t;

/* C99 fixed-width types as glibc spells them on LP64 (64-bit ones are long, not long long). */
typedef signed char    int8_t;
typedef unsigned char  uint8_t;
typedef short          int16_t;
typedef unsigned short uint16_t;
typedef int            int32_t;
typedef unsigned int   uint32_t;
typedef long           int64_t;
typedef unsigned long  uint64_t;

/* POSIX and glibc scalar types used by the records and prototypes. */
typedef __SIZE_TYPE__  size_t;
typedef long           ssize_t;
typedef long           off_t;
typedef long           time_t;
typedef int            clockid_t;
typedef unsigned int   mode_t;
typedef int            pid_t;
typedef unsigned long  rlim_t;
typedef unsigned int   socklen_t;
typedef unsigned short sa_family_t;
typedef uint16_t       in_port_t;
typedef uint32_t       in_addr_t;

/* One word of a glibc CPU affinity mask. */
typedef unsigned long  __cpu_mask;

#endif /* MINISS_LINUX_BASE_H */
