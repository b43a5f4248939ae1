/* SPDX-License-Identifier: MIT */
/*
 * qdread: 4 KiB O_DIRECT random reads from a block device with a fixed number
 * of requests in flight, through Linux's native AIO (io_submit/io_getevents).
 * It is the guest half of the vIC coalescing measurement (tests/system/
 * test_coalesce_linux.py): a reader whose queue depth is exactly what the test
 * asks, small enough (static, a few hundred KiB) for a Bochs guest's initramfs,
 * where fio and its 80 MB of libraries would take minutes to unpack. Built for
 * the guest by tools/linux-guest/linux-guest.mk; raw syscalls, no libaio.
 *
 * Usage: qdread DEVICE QD COUNT [SPAN_MB]
 * Prints one line: qd=QD reads=N errors=E ns=ELAPSED iops=R (guest monotonic
 * clock), exit status 0 when every read returned 4096 bytes.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BLOCK  4096
#define MAX_QD 256

static uint64_t now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* xorshift64: offsets need only spread, not quality. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: qdread DEVICE QD COUNT [SPAN_MB]\n");
        return 2;
    }
    long qd = strtol(argv[2], NULL, 0), count = strtol(argv[3], NULL, 0);
    long span_mb = argc > 4 ? strtol(argv[4], NULL, 0) : 64;
    if (qd < 1 || qd > MAX_QD || count < 1 || span_mb < 1) {
        fprintf(stderr, "qdread: bad arguments\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY | O_DIRECT);
    if (fd < 0) {
        perror("qdread: open");
        return 1;
    }
    aio_context_t ctx = 0;
    if (syscall(SYS_io_setup, qd, &ctx) < 0) {
        perror("qdread: io_setup");
        return 1;
    }
    static struct iocb cbs[MAX_QD];
    static struct iocb *ptrs[MAX_QD];
    static struct io_event ev[MAX_QD];
    uint8_t *buf = NULL;
    if (posix_memalign((void **)&buf, BLOCK, (size_t)qd * BLOCK)) {
        fprintf(stderr, "qdread: no memory\n");
        return 1;
    }
    uint64_t blocks = (uint64_t)span_mb * (1024 * 1024 / BLOCK);
    long submitted = 0, done = 0, errors = 0;

    /* Fills iocb i with a fresh read and submits it. */
#define SUBMIT(i)                                                                                  \
    do {                                                                                           \
        memset(&cbs[i], 0, sizeof(cbs[i]));                                                        \
        cbs[i].aio_data = (uint64_t)(i);                                                           \
        cbs[i].aio_fildes = (uint32_t)fd;                                                          \
        cbs[i].aio_lio_opcode = IOCB_CMD_PREAD;                                                    \
        cbs[i].aio_buf = (uint64_t)(uintptr_t)(buf + (size_t)(i)*BLOCK);                           \
        cbs[i].aio_nbytes = BLOCK;                                                                 \
        cbs[i].aio_offset = (int64_t)((next_rand() % blocks) * BLOCK);                             \
        ptrs[0] = &cbs[i];                                                                         \
        if (syscall(SYS_io_submit, ctx, 1, ptrs) != 1) {                                           \
            perror("qdread: io_submit");                                                           \
            return 1;                                                                              \
        }                                                                                          \
        submitted++;                                                                               \
    } while (0)

    uint64_t t0 = now_ns();
    for (long i = 0; i < qd && submitted < count; i++)
        SUBMIT(i);
    while (done < count) {
        long n = syscall(SYS_io_getevents, ctx, 1, qd, ev, NULL);
        if (n < 0) {
            perror("qdread: io_getevents");
            return 1;
        }
        for (long k = 0; k < n; k++) {
            long i = (long)ev[k].data;
            done++;
            if (ev[k].res != BLOCK)
                errors++;
            if (submitted < count)
                SUBMIT(i);
        }
    }
    uint64_t ns = now_ns() - t0;
    printf("qd=%ld reads=%ld errors=%ld ns=%llu iops=%llu\n", qd, done, errors,
           (unsigned long long)ns,
           (unsigned long long)(ns ? (uint64_t)done * 1000000000ull / ns : 0));
    return errors ? 1 : 0;
}
