/* SPDX-License-Identifier: MIT */
/*
 * One `nettest` run: frames through a NIC queue pair to an echo peer and
 * back, in bursts (one TX tail write per burst), each frame checked when it
 * returns and its round trip timed. Pure code over the NIC interface and a
 * tick clock given by the caller, so the host tests run it against the NIC
 * models with an echoing wire; on the machine it runs on a spare core that
 * owns the queue pair for the run.
 *
 * Buffers: the port keeps NIC_RING_SIZE - 1 receive buffers posted from its
 * first run on (the NIC owns them; they are never freed) and NETTEST_MAX_BURST
 * transmit buffers.
 */
#ifndef SIDECORE_NET_NETTEST_RUN_H
#define SIDECORE_NET_NETTEST_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/block/latency_stats.h"
#include "drivers/net/nic.h"

#define NETTEST_MAX_BURST 32
#define NETTEST_RX_BUFS   (NIC_RING_SIZE - 1)
/* Memory a port needs (rx_pool then tx_pool), in bytes. */
#define NETTEST_POOL_BYTES ((NETTEST_RX_BUFS + NETTEST_MAX_BURST) * NIC_RX_BUF_SIZE)

struct nettest_port {
    struct nic *nic;
    unsigned queue;
    uint8_t *pool; /* NETTEST_POOL_BYTES, device-reachable */
    bool posted;   /* receive buffers handed to the NIC */
};

struct nettest_params {
    uint64_t count; /* frames */
    uint16_t len;   /* bytes per frame, NETTEST_MIN_LEN..NETTEST_MAX_LEN */
    unsigned burst; /* frames in flight, 1..NETTEST_MAX_BURST */
    uint64_t (*now)(void);
    uint64_t ticks_per_sec;
    uint64_t timeout_ticks; /* for a burst to come back */
};

struct nettest_result {
    bool pass;
    uint64_t frames;  /* sent, came back and verified */
    uint64_t foreign; /* other frames received and ignored */
    uint64_t ticks;
    char why[160];
    struct latency_stats lat;
};

/* Runs; res is filled in whatever happens. */
void nettest_run(struct nettest_port *port, const struct nettest_params *p,
                 struct nettest_result *res);

#endif
