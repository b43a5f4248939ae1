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
/* Network devices a guest may have (`net =` lines), each its own PCI
 * function on one switch. */
#define GUEST_NETS_MAX 4
/* Queue pairs a guest's network device may have (virtio/virtio_net.h's
 * VIRTIO_NET_MAX_PAIRS on a 16-queue transport). */
#define GUEST_NET_QUEUES_MAX 7
/* Switches, named by `net =` lines or declared by [switch NAME]. */
#define GUEST_SWITCHES_MAX 8
#define GUEST_MAC_LEN      6

/* Guest memory is mapped with 2 MiB EPT pages at least, and a guest smaller
 * than 4 MiB cannot hold a kernel and its page tables. */
#define GUEST_MEMORY_ALIGN (2ull << 20)
#define GUEST_MEMORY_MIN   (4ull << 20)

/* One `net = SWITCH` or `net = SWITCH,mac=02:00:00:00:00:01` line. */
struct guest_net_spec {
    char sw[GUEST_NAME_LEN];    /* the switch it is a port of */
    uint8_t mac[GUEST_MAC_LEN]; /* given, or derived (guest_net_default_mac) */
    bool mac_given;
    unsigned line;
};

/* A switch: named by the `net =` lines of the accepted guests (line 0:
 * implicit) and/or declared by a [switch NAME] section (its line). */
struct guest_switch_config {
    char name[GUEST_NAME_LEN];
    unsigned line;
    int uplink_nic; /* `uplink = nic:N`: the N-th NIC, or -1 for none */
    unsigned uplink_line;
    unsigned nguests; /* accepted guests with a port on it */
    bool trap;        /* its guests are io = trap (all of them: a switch is served one way) */
};

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
    /* One per `net =` line, in file order. MACs are unicast, non-zero and
     * unique among the accepted guests. */
    struct guest_net_spec nets[GUEST_NETS_MAX];
    uint32_t nnets;
    uint32_t net_queues; /* 1..7 pairs per device; 0: not given, see guest_net_queues() */
    /* halt = hypervisor (false, the default) | guest: who executes the
     * guest's HLT. "hypervisor" intercepts it (an exit per halt, the vCPU
     * waits on the host and is woken there); "guest" lets the core halt in
     * guest mode, so an interrupt posted or pending for it (a virtio
     * completion) wakes it with no exit. The core is the guest's alone, so
     * nobody else wants it while it halts. */
    bool halt_in_guest;
    /* virtio_console = off (the default) | on: a virtio console device
     * (vmm/guest_vconsole.c) beside the UART, its transmitq polled by a
     * sidecore, so output written to hvc0 costs no exit per character.
     * Needs io = sidecore. */
    bool virtio_console;
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
    /* NICs the drivers brought up (nic_count()); `uplink = nic:N` must name
     * one of them. Unchecked when nics_unknown. */
    unsigned nics;
    bool nics_unknown;
};

struct guest_config_set {
    unsigned count;
    struct guest_config guests[GUEST_MAX];
    unsigned errors;      /* problems reported (each through the error callback) */
    uint32_t cpus_used;   /* sum of the accepted guests' cpus */
    uint64_t memory_used; /* sum of the accepted guests' memory */
    /* Every switch an accepted guest is on, and every [switch] section. */
    unsigned nswitches;
    struct guest_switch_config switches[GUEST_SWITCHES_MAX];
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
 * Networking: `net = SWITCH[,mac=..]` (repeatable) puts a network device
 * on switch SWITCH; switches exist by being named, and a [switch NAME]
 * section only adds `uplink = nic:N`. A duplicate MAC, a NIC that was not
 * found, a switch whose guests mix io = sidecore and io = trap, or an
 * uplink on an io = trap switch (nobody would poll the NIC) is reported at
 * its line, dropping the guest (or ignoring the uplink).
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

/* Queue pairs of each of the guest's network devices: net_queues if
 * given, else one per vCPU, at most GUEST_NET_QUEUES_MAX. */
uint32_t guest_net_queues(const struct guest_config *g);

/* The MAC a guest's index-th `net =` line gets when it names none: 02 (a
 * locally administered unicast address), four bytes hashed from the
 * guest's name, then the index. Stable across boots and config edits that
 * keep the name. */
void guest_net_default_mac(const char *guest, unsigned index, uint8_t mac[GUEST_MAC_LEN]);

/* The switch named name in set, or NULL. */
const struct guest_switch_config *guest_config_switch(const struct guest_config_set *set,
                                                      const char *name);

#endif
