/* Miniss native baseline: 4 KiB random reads from a file with liburing at a given queue depth, buffered or
 * O_DIRECT. Usage: read_4k FILE DEPTH direct|buffered [READS]. Prints "read4k depth=N mode=M iops=X ns_per_op=Y". */
#define _GNU_SOURCE
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s FILE DEPTH direct|buffered [READS]\n", argv[0]);
        return 2;
    }
    int depth = atoi(argv[2]);
    int direct = strcmp(argv[3], "direct") == 0;
    long reads = argc > 4 ? atol(argv[4]) : 200000;
    int fd = open(argv[1], O_RDONLY | (direct ? O_DIRECT : 0));
    if (fd < 0) {
        perror("open");
        return 1;
    }
    struct stat st;
    fstat(fd, &st);
    long blocks = st.st_size / 4096;

    struct io_uring ring;
    if (io_uring_queue_init(64, &ring, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN) != 0
        && io_uring_queue_init(64, &ring, 0) != 0) {
        fprintf(stderr, "io_uring_queue_init failed\n");
        return 1;
    }
    char *buffers;
    if (posix_memalign((void **)&buffers, 4096, (size_t)depth * 4096) != 0)
        return 1;

    unsigned long long seed = 42;
    long submitted = 0, completed = 0;
    double start = now_ns();
    while (completed < reads) {
        while (submitted - completed < depth && submitted < reads) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            long block = (long)((seed >> 17) % (unsigned long long)blocks);
            int slot = (int)(submitted % depth);
            struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
            io_uring_prep_read(sqe, fd, buffers + (size_t)slot * 4096, 4096, (unsigned long long)block * 4096);
            submitted++;
        }
        struct io_uring_cqe *cqe;
        io_uring_submit_and_wait(&ring, 1);
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            if (cqe->res != 4096) {
                fprintf(stderr, "read failed: %d\n", cqe->res);
                return 1;
            }
            seen++;
        }
        io_uring_cq_advance(&ring, seen);
        completed += seen;
    }
    double per = (now_ns() - start) / reads;
    printf("read4k depth=%d mode=%s iops=%.0f ns_per_op=%.1f\n", depth, direct ? "direct" : "buffered", 1e9 / per, per);
    io_uring_queue_exit(&ring);
    close(fd);
    return 0;
}
