/* SPDX-License-Identifier: MIT */
/*
 * The switches the configuration names, as running objects (hypervisor
 * only): each one's struct net_switch, its uplink (a queue pair of the
 * N-th NIC through vmm/net/nic_port.h, with its buffer pool allocated
 * here at boot) and who serves it.
 *
 * A switch is served one way (the configuration makes sure of it):
 *  - sidecore: one I/O sidecore polls the whole switch (net_switch_service)
 *    and so owns every device queue and the NIC queue pair on it. It is
 *    given to a sidecore when its first guest attaches, which is before the
 *    sidecores start; no lock on that path.
 *  - trap: the guests' vCPUs poll it after a notify exit, holding the
 *    switch's lock (the frames one guest sends land in another's queues),
 *    a bounded amount of work per exit.
 */
#ifndef SIDECORE_VMM_NET_SWITCHES_H
#define SIDECORE_VMM_NET_SWITCHES_H

#include <stdbool.h>
#include <stddef.h>

#include "kernel/lib/spinlock.h"
#include "vmm/guest_config.h"
#include "vmm/net/nic_port.h"
#include "vmm/net/switch.h"
#include "vmm/sidecore/sidecore.h"

struct nic;

struct net_switch_slot {
    struct net_switch sw;
    char name[GUEST_NAME_LEN];
    bool trap;
    struct spinlock lock; /* trap mode: held by the vCPU polling the switch */
    int nic;              /* the uplink's NIC, -1 for none */
    struct net_nic_port *uplink;
    char uplink_name[16];
    struct sidecore_queue *sq; /* sidecore mode, once a guest attached */
    char label[40];
    uint64_t trap_polls; /* trap mode: polls run by vCPUs */
};

/* Boot CPU, before any guest is created: one slot per switch of set that
 * some accepted guest uses, with its uplink if it has one (an uplink that
 * cannot be set up is reported and left out). */
void net_switches_create(const struct guest_config_set *set);

/* The switch named name, or NULL. */
struct net_switch_slot *net_switches_find(const char *name);

/* Sidecore mode: gives the switch to a sidecore of the given socket, once
 * (later calls do nothing). Before sidecore_start_all(). False when no
 * sidecore can take it. */
bool net_switch_slot_to_sidecore(struct net_switch_slot *s, unsigned socket);

/* Trap mode, on a vCPU after a notify exit: one bounded poll of the whole
 * switch under its lock. Returns the frames taken. */
unsigned net_switch_slot_trap_poll(struct net_switch_slot *s);

/* The `stats` lines of every switch, its ports and its uplink's NIC queue. */
void net_switches_print_stats(void);

#endif
