/* SPDX-License-Identifier: MIT */
/* A guest's power events (reset, power-off): it stops, and restarts when its
 * configuration says so (on_reboot, on_poweroff). The restart itself runs on
 * the boot CPU, from vmm_poll(), never on the guest's own cores. */
#ifndef SIDECORE_VMM_GUEST_POWER_H
#define SIDECORE_VMM_GUEST_POWER_H

#include "vmm/guest.h"

/* A kernel panic counts as a reboot request: it stops the guest, or
 * restarts it when on_reboot = restart. */
enum guest_event { GUEST_EVENT_REBOOT, GUEST_EVENT_POWEROFF, GUEST_EVENT_PANIC };

void guest_power_event(struct guest *g, enum guest_event ev, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Boot CPU, from its idle loop: carries out pending restarts. */
void vmm_poll(void);

#endif
