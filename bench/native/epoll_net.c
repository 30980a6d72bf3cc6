/*
 * The C baseline of Miniss's networking benchmarks (bench/Miniss.NetBenchmarks, suite "native"): what plain epoll
 * does on this machine with the same protocol as the .NET and tokio servers.
 *
 *   epoll_net server echo|http PORT THREADS
 *       THREADS threads, each with its own SO_REUSEPORT listener and epoll instance (level-triggered), answering
 *       64-byte echo or HTTP/1.1 "Hello, World!" (pipelined heads answered with one write per read). Prints
 *       "listening PORT" and exits when standard input closes.
 *   epoll_net client PORT CONNECTIONS WARMUP_SECONDS DURATION_SECONDS
 *       One thread driving CONNECTIONS echo connections: each sends 64 bytes, waits for all 64 to come back, and
 *       repeats. Prints "measuring" when the window opens and then one line "result {json}" with the fields of the
 *       .NET load generator (Requests, Seconds, P50Microseconds, P99Microseconds, CpuSeconds).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MESSAGE 64
#define BUFFER (16 * 1024)
#define EVENTS 256

static const char RESPONSE[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nServer: C\r\n\r\nHello, World!";

static void die(const char *what)
{
    fprintf(stderr, "epoll_net: %s failed: %s\n", what, strerror(errno));
    exit(1);
}

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t now_nanoseconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* ---- server ------------------------------------------------------------------------------------------------------ */

struct connection {
    int fd;
    size_t filled;
    char input[BUFFER];
};

static int http_mode;
static int server_port;

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) die("SO_REUSEPORT");
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&address, sizeof address) < 0) die("bind");
    if (listen(fd, 1024) < 0) die("listen");
    return fd;
}

static int send_all(int fd, const char *data, size_t length)
{
    while (length > 0) {
        ssize_t n = send(fd, data, length, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN) {
                /* A benchmark client reads everything it is sent; wait for room rather than buffer. */
                struct timespec pause = { 0, 10000 };
                nanosleep(&pause, NULL);
                continue;
            }
            return -1;
        }
        data += n;
        length -= (size_t)n;
    }
    return 0;
}

/* Returns -1 when the connection is done. */
static int serve_readable(struct connection *c, char *scratch)
{
    for (;;) {
        ssize_t n = recv(c->fd, c->input + c->filled, BUFFER - c->filled, 0);
        if (n == 0) return -1;
        if (n < 0) return errno == EAGAIN ? 0 : -1;
        if (!http_mode) {
            if (send_all(c->fd, c->input, (size_t)n) < 0) return -1;
            continue;
        }
        c->filled += (size_t)n;
        size_t start = 0, out = 0;
        for (;;) {
            char *end = memmem(c->input + start, c->filled - start, "\r\n\r\n", 4);
            if (end == NULL) break;
            start = (size_t)(end - c->input) + 4;
            if (out + sizeof RESPONSE - 1 > BUFFER) {
                if (send_all(c->fd, scratch, out) < 0) return -1;
                out = 0;
            }
            memcpy(scratch + out, RESPONSE, sizeof RESPONSE - 1);
            out += sizeof RESPONSE - 1;
        }
        if (out > 0 && send_all(c->fd, scratch, out) < 0) return -1;
        memmove(c->input, c->input + start, c->filled - start);
        c->filled -= start;
        if (c->filled == BUFFER) return -1; /* a head larger than the buffer: not a benchmark client */
    }
}

static void *server_thread(void *unused)
{
    (void)unused;
    int listener = listen_on(server_port);
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    if (epoll < 0) die("epoll_create1");
    struct epoll_event add = { .events = EPOLLIN, .data.ptr = NULL };
    if (epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &add) < 0) die("epoll_ctl");
    struct epoll_event events[EVENTS];
    char *scratch = malloc(BUFFER);
    for (;;) {
        int ready = epoll_wait(epoll, events, EVENTS, -1);
        if (ready < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < ready; i++) {
            struct connection *c = events[i].data.ptr;
            if (c == NULL) {
                int fd;
                while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    int one = 1;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct connection *accepted = calloc(1, sizeof *accepted);
                    accepted->fd = fd;
                    struct epoll_event event = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = accepted };
                    if (epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) < 0) die("epoll_ctl");
                }
                continue;
            }
            if (serve_readable(c, scratch) < 0) {
                close(c->fd);
                free(c);
            }
        }
    }
    return NULL;
}

static int run_server(int argc, char **argv)
{
    if (argc != 5 || (strcmp(argv[2], "echo") != 0 && strcmp(argv[2], "http") != 0)) return 2;
    http_mode = strcmp(argv[2], "http") == 0;
    server_port = atoi(argv[3]);
    int threads = atoi(argv[4]);
    if (server_port <= 0 || threads <= 0) return 2;
    for (int t = 0; t < threads; t++) {
        pthread_t thread;
        if (pthread_create(&thread, NULL, server_thread, NULL) != 0) die("pthread_create");
    }
    /* Bound before "listening" is printed: the first thread's listener exists once its socket is bound. */
    struct timespec pause = { 0, 50000000 };
    nanosleep(&pause, NULL);
    printf("listening %d\n", server_port);
    fflush(stdout);
    char sink[256];
    while (read(0, sink, sizeof sink) > 0) {
    }
    return 0;
}

/* ---- client ------------------------------------------------------------------------------------------------------ */

/* Latency buckets: 1 µs wide up to 100 ms, and one overflow bucket. */
#define BUCKETS 100001
static uint64_t histogram[BUCKETS];

struct exchange {
    int fd;
    size_t received;
    uint64_t started;
};

static double percentile(uint64_t total, double p)
{
    uint64_t rank = (uint64_t)(p * (double)total), seen = 0;
    for (int i = 0; i < BUCKETS; i++) {
        seen += histogram[i];
        if (seen > rank) return (double)i;
    }
    return (double)(BUCKETS - 1);
}

static double cpu_seconds(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 + (double)usage.ru_stime.tv_sec +
           (double)usage.ru_stime.tv_usec / 1e6;
}

static int run_client(int argc, char **argv)
{
    if (argc != 6) return 2;
    int port = atoi(argv[2]), connections = atoi(argv[3]);
    double warmup = atof(argv[4]), duration = atof(argv[5]);
    if (port <= 0 || connections <= 0 || warmup < 0 || duration <= 0) return 2;
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    if (epoll < 0) die("epoll_create1");
    struct exchange *exchanges = calloc((size_t)connections, sizeof *exchanges);
    char message[MESSAGE], reply[BUFFER];
    memset(message, 'm', sizeof message);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < connections; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) die("socket");
        if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) die("connect");
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        exchanges[i].fd = fd;
        struct epoll_event event = { .events = EPOLLIN, .data.ptr = &exchanges[i] };
        if (epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) < 0) die("epoll_ctl");
        exchanges[i].started = now_nanoseconds();
        if (send(fd, message, MESSAGE, MSG_NOSIGNAL) != MESSAGE) die("send");
    }
    double begin = now_seconds(), measure_from = begin + warmup, measure_to = measure_from + duration;
    int measuring = 0;
    double cpu_before = 0, measured_from = 0;
    uint64_t requests = 0;
    struct epoll_event events[EVENTS];
    for (;;) {
        double t = now_seconds();
        if (!measuring && t >= measure_from) {
            measuring = 1;
            cpu_before = cpu_seconds();
            measured_from = t;
            memset(histogram, 0, sizeof histogram);
            printf("measuring\n");
            fflush(stdout);
        }
        if (measuring && t >= measure_to) break;
        int ready = epoll_wait(epoll, events, EVENTS, 100);
        if (ready < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < ready; i++) {
            struct exchange *x = events[i].data.ptr;
            ssize_t n = recv(x->fd, reply, sizeof reply, MSG_DONTWAIT);
            if (n == 0) {
                fprintf(stderr, "epoll_net: the echo server closed a connection\n");
                return 1;
            }
            if (n < 0) {
                if (errno == EAGAIN) continue;
                die("recv");
            }
            x->received += (size_t)n;
            if (x->received < MESSAGE) continue;
            uint64_t finished = now_nanoseconds();
            if (measuring) {
                uint64_t micros = (finished - x->started) / 1000;
                histogram[micros < BUCKETS ? micros : BUCKETS - 1]++;
                requests++;
            }
            x->received = 0;
            x->started = finished;
            if (send(x->fd, message, MESSAGE, MSG_NOSIGNAL) != MESSAGE) die("send");
        }
    }
    double seconds = now_seconds() - measured_from, cpu = cpu_seconds() - cpu_before;
    uint64_t total = 0;
    for (int i = 0; i < BUCKETS; i++) total += histogram[i];
    printf("result {\"Requests\":%llu,\"Seconds\":%.6f,\"P50Microseconds\":%.1f,\"P99Microseconds\":%.1f,\"CpuSeconds\":%.6f}\n",
           (unsigned long long)requests, seconds, percentile(total, 0.50), percentile(total, 0.99), cpu);
    fflush(stdout);
    for (int i = 0; i < connections; i++) close(exchanges[i].fd);
    return 0;
}

int main(int argc, char **argv)
{
    int code = 2;
    if (argc >= 2 && strcmp(argv[1], "server") == 0) code = run_server(argc, argv);
    else if (argc >= 2 && strcmp(argv[1], "client") == 0) code = run_client(argc, argv);
    if (code == 2) {
        fprintf(stderr, "usage: epoll_net server echo|http PORT THREADS | epoll_net client PORT CONNECTIONS WARMUP DURATION\n");
    }
    return code;
}
