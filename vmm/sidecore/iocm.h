/* SPDX-License-Identifier: MIT */
/*
 * The I/O-core monitor's decisions (IOcm, the MIKELANGELO sKVM I/O core
 * manager): given, once an epoch, how busy each sidecore was and how much
 * work each queue brought, decide whether to add a sidecore, park one, or
 * leave things as they are, and how to spread the queues over the active
 * sidecores. Pure code, host-tested on recorded load traces
 * (tests/unit/test_iocm.c); the hypervisor applies the decisions (parking
 * cores, moving queues with vmm/sidecore/handoff.h).
 *
 * Rules, per CPU socket (a socket's queues stay on that socket's cores):
 *  - add: every active core of the socket was busy at least busy_high
 *    (95%) of the epoch for add_epochs (3) epochs in a row, and the socket
 *    has a parked core;
 *  - remove: the socket has two or more active cores and their busy time
 *    together would fit on one fewer at no more than fit_low (60%) each,
 *    for remove_epochs (5) epochs in a row; the least loaded one is parked;
 *  - after either, the queues of the socket are spread again by measured
 *    load (largest first onto the least loaded core);
 *  - hysteresis: eval_epochs (2) epochs after a change its throughput per
 *    busy cycle (work done / busy time) is compared with the epoch before
 *    the change; if it fell by more than tolerance (5%) the change is
 *    undone, and a change of that kind on that socket is not tried again
 *    for a number of epochs that doubles with every undo (the regret
 *    policy: 8, 16, 32, ... at most 1024); a change that is kept resets it.
 * One change at a time: none is made while another is being evaluated.
 */
#ifndef SIDECORE_VMM_SIDECORE_IOCM_H
#define SIDECORE_VMM_SIDECORE_IOCM_H

#include <stdbool.h>
#include <stdint.h>

#define IOCM_MAX_CORES   64
#define IOCM_MAX_QUEUES  256
#define IOCM_MAX_SOCKETS 8
#define IOCM_NONE        0xffffffffu

struct iocm_params {
    unsigned busy_high_pm;  /* per-mille busy that counts as saturated (950) */
    unsigned fit_low_pm;    /* per-mille each core may reach after a removal (600) */
    unsigned add_epochs;    /* saturated epochs in a row before adding (3) */
    unsigned remove_epochs; /* spare epochs in a row before removing (5) */
    unsigned eval_epochs;   /* epochs after a change before judging it (2) */
    unsigned tolerance_pm;  /* fall in work per busy cycle that undoes a change (50) */
    unsigned backoff_min;   /* epochs a change is not retried after its first undo (8) */
    unsigned backoff_max;   /* ... at most (1024) */
};

void iocm_params_default(struct iocm_params *p);

/* One epoch as measured. Times in any unit, the same for all. */
struct iocm_core_sample {
    uint32_t socket;
    bool active;   /* serving queues (false: parked) */
    uint64_t busy; /* time spent doing work this epoch */
    uint64_t idle; /* time polling empty queues */
};

struct iocm_queue_sample {
    uint32_t socket; /* of the guest that owns it */
    uint32_t core;   /* the sidecore serving it now */
    uint64_t load;   /* work it brought this epoch (busy time, or requests) */
};

struct iocm_sample {
    unsigned ncores, nqueues;
    struct iocm_core_sample core[IOCM_MAX_CORES];
    struct iocm_queue_sample queue[IOCM_MAX_QUEUES];
    uint64_t work; /* units of work done this epoch on all cores (requests) */
};

enum iocm_action {
    IOCM_KEEP,   /* no change */
    IOCM_ADD,    /* activate core */
    IOCM_REMOVE, /* park core */
};

struct iocm_decision {
    enum iocm_action action;
    uint32_t core; /* the core added or parked */
    uint32_t socket;
    bool undo;                        /* the action undoes the previous change */
    bool spread;                      /* assign[] holds a new placement of every queue */
    uint32_t assign[IOCM_MAX_QUEUES]; /* queue -> core */
    char reason[120];
};

struct iocm_socket_state {
    unsigned hot, cold;  /* epochs in a row saturated / with room to spare */
    unsigned wait[3];    /* per action: epochs before it may be tried again */
    unsigned penalty[3]; /* per action: the next wait after an undo */
};

struct iocm {
    struct iocm_params p;
    uint64_t epoch;
    struct iocm_socket_state sock[IOCM_MAX_SOCKETS];
    /* The change being evaluated. */
    bool evaluating;
    enum iocm_action change;
    uint32_t change_core, change_socket;
    unsigned eval_left;
    uint64_t before_work, before_busy; /* the epoch before the change */
    uint64_t last_work, last_busy;     /* the latest epoch */
    /* Counters. */
    uint64_t adds, removes, undos;
};

void iocm_init(struct iocm *m, const struct iocm_params *p);

/* One epoch: reads s, writes what to do to d (action KEEP when nothing).
 * The caller applies it before the next epoch's sample. */
void iocm_epoch(struct iocm *m, const struct iocm_sample *s, struct iocm_decision *d);

/* Places every queue of s on an active core of its socket (any active
 * core when its socket has none), largest load first onto the least
 * loaded core, counting as active also add_core and not remove_core
 * (IOCM_NONE for neither). Writes assign[]; false if no core is active. */
bool iocm_spread(const struct iocm_sample *s, uint32_t add_core, uint32_t remove_core,
                 uint32_t *assign);

#endif
