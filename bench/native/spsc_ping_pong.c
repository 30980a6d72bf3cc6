/* Miniss native baseline: the floor of a cross-core round trip on this machine. Two threads, pinned to CPU 0 and
 * CPU 1, pass a token through two single-producer single-consumer rings (one per direction, head and tail on cache
 * lines of their own), each spinning on its incoming ring. A round trip is one message there and one back, the
 * shape of Miniss's SubmitTo ping-pong. Prints "spsc round_trip ns_per_op=X". */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define SLOTS 1024
#define LINE 64

struct ring {
    _Alignas(LINE) _Atomic uint64_t head; /* written by the consumer */
    _Alignas(LINE) _Atomic uint64_t tail; /* written by the producer */
    _Alignas(LINE) uint64_t slots[SLOTS];
};

static struct ring there, back;
static long round_trips;

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) {
        fprintf(stderr, "spsc_ping_pong: cannot pin to CPU %d\n", cpu);
        exit(1);
    }
}

static void put(struct ring *r, uint64_t value)
{
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    while (tail - atomic_load_explicit(&r->head, memory_order_acquire) == SLOTS) {
    }
    r->slots[tail % SLOTS] = value;
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
}

static uint64_t take(struct ring *r)
{
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    while (atomic_load_explicit(&r->tail, memory_order_acquire) == head) {
    }
    uint64_t value = r->slots[head % SLOTS];
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
    return value;
}

static void *echo(void *unused)
{
    (void)unused;
    pin(1);
    for (long i = 0; i < round_trips; i++) {
        put(&back, take(&there) + 1);
    }
    return NULL;
}

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv)
{
    round_trips = argc > 1 ? atol(argv[1]) : 2000000;
    if (round_trips <= 0) {
        fprintf(stderr, "usage: spsc_ping_pong [ROUND_TRIPS]\n");
        return 2;
    }
    pthread_t peer;
    if (pthread_create(&peer, NULL, echo, NULL) != 0) {
        fprintf(stderr, "spsc_ping_pong: pthread_create failed\n");
        return 1;
    }
    pin(0);
    /* A tenth of the round trips warm up both caches and the branch predictors; the rest are timed. */
    long warmup = round_trips / 10;
    uint64_t token = 0;
    double started = 0;
    for (long i = 0; i < round_trips; i++) {
        if (i == warmup) started = now_ns();
        put(&there, token);
        token = take(&back);
    }
    double elapsed = now_ns() - started;
    pthread_join(peer, NULL);
    if (token != (uint64_t)round_trips) {
        fprintf(stderr, "spsc_ping_pong: lost a message (%llu of %ld)\n", (unsigned long long)token, round_trips);
        return 1;
    }
    printf("spsc round_trip ns_per_op=%.1f\n", elapsed / (double)(round_trips - warmup));
    return 0;
}
