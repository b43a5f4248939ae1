/* SPDX-License-Identifier: MIT */
/*
 * The shell's `nic` command: one line per NIC with its PCI address, chip,
 * MAC, link, queue pairs and counters (the chip's statistics registers,
 * then the drivers' own per-queue counts summed); `nic -v` adds a line per
 * queue pair with the driver's counters, tail writes included (one per
 * batch, so frames per tail write is the batching actually achieved).
 */
#include "drivers/net/nic.h"
#include "drivers/net/nic_dev.h"
#include "kernel/console/console.h"
#include "kernel/lib/string.h"
#include "kernel/shell/shell.h"

static void list_nic(struct nic *n)
{
    const uint8_t *m = nic_mac(n);
    unsigned mbps;
    bool link = nic_link(n, &mbps);
    const struct nic_counters *c = nic_stats_update(n);
    struct nic_queue_counters sum = {0};

    for (unsigned i = 0; i < nic_queue_count(n); i++) {
        const struct nic_queue_counters *q = nic_queue_counters(n, i);

        sum.rx_errors += q->rx_errors;
        sum.tx_ring_full += q->tx_ring_full;
    }
    console_printf("nic%u pci=%04x:%02x:%02x.%u chip=%s mac=%02x:%02x:%02x:%02x:%02x:%02x "
                   "link=%s speed=%u queues=%u rx_packets=%llu rx_bytes=%llu tx_packets=%llu "
                   "tx_bytes=%llu rx_drops=%llu rx_errors=%llu tx_drops=%llu\n",
                   n->index, n->segment, n->bus, n->dev, n->func, nic_chip_name(n), m[0], m[1],
                   m[2], m[3], m[4], m[5], link ? "up" : "down", mbps, nic_queue_count(n),
                   (unsigned long long)c->rx_packets, (unsigned long long)c->rx_bytes,
                   (unsigned long long)c->tx_packets, (unsigned long long)c->tx_bytes,
                   (unsigned long long)c->rx_missed,
                   (unsigned long long)(c->rx_crc_errors + sum.rx_errors),
                   (unsigned long long)sum.tx_ring_full);
}

static void list_queues(struct nic *n)
{
    for (unsigned i = 0; i < nic_queue_count(n); i++) {
        const struct nic_queue_counters *q = nic_queue_counters(n, i);

        console_printf("  nic%uq%u rx_packets=%llu rx_bytes=%llu rx_errors=%llu tx_packets=%llu "
                       "tx_bytes=%llu tx_ring_full=%llu tail_writes=%llu\n",
                       n->index, i, (unsigned long long)q->rx_packets,
                       (unsigned long long)q->rx_bytes, (unsigned long long)q->rx_errors,
                       (unsigned long long)q->tx_packets, (unsigned long long)q->tx_bytes,
                       (unsigned long long)q->tx_ring_full, (unsigned long long)q->tail_writes);
    }
}

static int nic_command(int argc, char **argv)
{
    bool verbose = argc == 2 && strcmp(argv[1], "-v") == 0;

    if (argc != 1 && !verbose) {
        console_printf("usage: nic [-v]\n");
        return 1;
    }
    if (nic_count() == 0)
        console_printf("no NICs\n");
    for (unsigned i = 0; i < nic_count(); i++) {
        list_nic(nic_get(i));
        if (verbose)
            list_queues(nic_get(i));
    }
    return 0;
}

SHELL_COMMAND("nic", "[-v]", "list the NICs: chip, MAC, link, queues, counters; -v: per queue",
              nic_command);
