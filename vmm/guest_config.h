/* SPDX-License-Identifier: MIT */
/*
 * The guests a configuration describes, after parsing and validation
 * (vmm/guest_config.c). Every accepted guest is complete and fits the
 * machine; rejected ones were reported as file:line: problem.
 */
#ifndef SIDECORE_VMM_GUEST_CONFIG_H
#define SIDECORE_VMM_GUEST_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/disk_spec.h"

#define GUEST_MAX         16
#define GUEST_NAME_LEN    32
#define GUEST_PATH_LEN    96
#define GUEST_CMDLINE_LEN 512
#define GUEST_MAX_VCPUS   64
/* Virtqueues a guest's disk may have (as drivers/block/ramdisk.h's queues). */
#define GUEST_DISK_QUEUES_MAX 16
/* Disks a guest may have (`disk =` lines), each its own PCI function. */
#define GUEST_DISKS_MAX   8
#define GUEST_MODULES_MAX 4 /* `module =` lines (vmm/loader BOOT_MODULES_MAX) */

/* Guest memory is mapped with 2 MiB EPT pages at least, and a guest smaller
 * than 4 MiB cannot hold a kernel and its page tables. */
#define GUEST_MEMORY_ALIGN (2ull << 20)
#define GUEST_MEMORY_MIN   (4ull << 20)

enum guest_on_event { GUEST_STOP = 0, GUEST_RESTART = 1 };

/* How a guest's virtio devices are served: polled by the socket's I/O
 * sidecore with no exit (the default), or on the guest's own core after each
 * notification exits. */
enum guest_io_mode { GUEST_IO_SIDECORE = 0, GUEST_IO_TRAP = 1 };

struct guest_config {
    char name[GUEST_NAME_LEN];
    unsigned line;               /* where its section starts, for messages */
    uint32_t cpus;               /* dedicated physical cores */
    uint64_t memory;             /* bytes, a multiple of 2 MiB */
    char kernel[GUEST_PATH_LEN]; /* boot-file name, relative to the config */
    char initrd[GUEST_PATH_LEN]; /* "" if none */
    char cmdline[GUEST_CMDLINE_LEN];
    /* One per `module = PATH [args]` line, in file order: further boot
     * modules a multiboot v1 kernel receives after the initrd, each with
     * the whole value ("PATH args") as its string, as GRUB's `module` gives. */
    struct guest_module {
        char path[GUEST_PATH_LEN];
        char string[GUEST_PATH_LEN * 2];
    } modules[GUEST_MODULES_MAX];
    uint32_t nmodules;
    enum guest_on_event on_poweroff; /* default stop */
    enum guest_on_event on_reboot;   /* default restart */
    /* One per `disk =` line, in file order ("disk =" adds none). NVMe ranges
     * of accepted guests never overlap, within a guest or between guests;
     * whether the namespace exists and holds the range is only known at run
     * time. A RAM disk's file is a non-zero multiple of 512 bytes whenever
     * file_exists gave its size. */
    struct disk_spec disks[GUEST_DISKS_MAX];
    uint32_t ndisks;
    uint32_t disk_queues;  /* 1..16 for each disk; 0: not given, see guest_disk_queues() */
    enum guest_io_mode io; /* default sidecore */
    /* interrupt_coalescing = adaptive (false, the default) | off: whether
     * a sidecore-served queue's interrupts follow vIC's adaptive ratio
     * (vmm/sidecore/coalesce.h) or every one the driver asks for is sent. */
    bool coalescing_off;
};

/* What the machine can give guests, for validation. */
struct guest_config_limits {
    uint32_t cpus_available;   /* cores not kept by the hypervisor */
    uint64_t memory_available; /* bytes */
    /* Whether a boot file of this name exists (and its size, if it does;
     * a size left unset counts as unknown, not as empty). */
    bool (*file_exists)(void *ctx, const char *name, uint64_t *size);
    void *ctx;
    /* [hypervisor] sidecores = 0: no core polls virtqueues, so a guest with a
     * disk must say io = trap (it is refused otherwise). */
    bool no_sidecores;
};

struct guest_config_set {
    unsigned count;
    struct guest_config guests[GUEST_MAX];
    unsigned errors;      /* problems reported (each through the error callback) */
    uint32_t cpus_used;   /* sum of the accepted guests' cpus */
    uint64_t memory_used; /* sum of the accepted guests' memory */
};

typedef void (*guest_config_error_fn)(void *ctx, unsigned line, const char *message);

/*
 * Parses the config text and keeps every valid [guest NAME] section. Each
 * problem is reported once through err, and the guest it concerns is
 * dropped; guests that fit are accepted in file order until cores or memory
 * run out.
 *
 * The message carries no file name or line prefix: the caller adds them
 * (e.g. "sidecore.cfg:7: memory = 3M: not a multiple of 2M (try 4M)").
 * Problems a guest has as a whole (a missing key, no room left on the
 * machine, one guest too many) are reported at the line of its section
 * header. Syntax errors found by the tokenizer (kernel/config/ini.c) are
 * passed through unchanged. Keys of [hypervisor] are not looked at (the
 * caller passes sidecores = 0 as limits->no_sidecores).
 *
 * An NVMe disk that shares blocks with another disk of its own section or
 * of an earlier [guest] section (kept or not; a whole namespace shares with
 * everything on it) is reported at its disk line and its guest dropped. disk_queues without a
 * disk is accepted and means nothing.
 * limits->file_exists may be NULL, which skips the boot-file checks.
 * err may be NULL; problems are still counted in out->errors.
 */
void guest_config_parse(const char *text, size_t len, const struct guest_config_limits *limits,
                        struct guest_config_set *out, guest_config_error_fn err, void *err_ctx);

/* "stop" or "restart", as written in the config. */
const char *guest_on_event_name(enum guest_on_event ev);

/* "sidecore" or "trap", as written in the config. */
const char *guest_io_mode_name(enum guest_io_mode mode);

/* The number of queues each of the guest's disks gets: disk_queues if given, else
 * one per vCPU, at most GUEST_DISK_QUEUES_MAX. */
uint32_t guest_disk_queues(const struct guest_config *g);

#endif
