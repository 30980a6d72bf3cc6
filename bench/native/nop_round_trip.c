/* Miniss native baseline: the cost of io_uring NOP round trips in C with liburing, batch 1 and batch 32, on a ring
 * set up with the same flags Miniss asks for. Prints one line per batch size: "nop batch=N ns_per_op=X". */
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int setup(struct io_uring *ring)
{
    unsigned flags[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SUBMIT_ALL,
        IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL,
        0,
    };
    for (unsigned i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        if (io_uring_queue_init(256, ring, flags[i]) == 0)
            return 0;
    }
    return -1;
}

static double run(struct io_uring *ring, int batch, long operations)
{
    struct io_uring_cqe *cqe;
    double start = now_ns();
    for (long done = 0; done < operations; done += batch) {
        for (int i = 0; i < batch; i++) {
            struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
            io_uring_prep_nop(sqe);
            io_uring_sqe_set_data64(sqe, (unsigned long long)i);
        }
        io_uring_submit_and_wait(ring, batch);
        unsigned head, seen = 0;
        io_uring_for_each_cqe(ring, head, cqe) seen++;
        io_uring_cq_advance(ring, seen);
        while (seen < (unsigned)batch) {
            io_uring_wait_cqe(ring, &cqe);
            io_uring_cqe_seen(ring, cqe);
            seen++;
        }
    }
    return (now_ns() - start) / operations;
}

int main(int argc, char **argv)
{
    long operations = argc > 1 ? atol(argv[1]) : 2000000;
    struct io_uring ring;
    if (setup(&ring) != 0) {
        fprintf(stderr, "io_uring_queue_init failed\n");
        return 1;
    }
    run(&ring, 32, operations / 4); /* warm up */
    printf("nop batch=1 ns_per_op=%.1f\n", run(&ring, 1, operations / 4));
    printf("nop batch=32 ns_per_op=%.1f\n", run(&ring, 32, operations));
    io_uring_queue_exit(&ring);
    return 0;
}
