/* SPDX-License-Identifier: MIT */
/*
 * A guest's virtio-net device as a port of a switch: the port's poll is
 * the device's TX service (each frame the guest sends goes to
 * net_switch_input() through the device's tx callback), deliver is the
 * device's RX copy, flush publishes its RX queues. Everything runs on the
 * switch's owner (switch.h). Set up: give virtio_net_init() tx =
 * net_virtio_port_tx and tx_ctx = the struct net_virtio_port, then attach.
 */
#ifndef SIDECORE_VMM_NET_VIRTIO_PORT_H
#define SIDECORE_VMM_NET_VIRTIO_PORT_H

#include "virtio/virtio_net.h"
#include "vmm/net/switch.h"

struct net_virtio_port {
    struct net_switch *sw;
    struct virtio_net *dev;
    int port; /* -1 until attached */
};

extern const struct net_port_ops net_virtio_port_ops;

/* The device's params.tx. */
void net_virtio_port_tx(void *tx_ctx, const struct net_frame *f);

/* Adds dev (initialised, with tx_ctx = vp) to sw under its MAC. False with
 * why (net_switch_add_port's reasons). */
bool net_virtio_port_attach(struct net_virtio_port *vp, struct net_switch *sw,
                            struct virtio_net *dev, const char *name, const char **why);

#endif
