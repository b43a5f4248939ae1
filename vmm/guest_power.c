/* SPDX-License-Identifier: MIT */
#include "vmm/guest_power.h"

#include <stdarg.h>

#include "kernel/lib/fmt.h"
#include "vmm/guest_vconsole.h"
#include "vmm/sidecore/monitor.h"

static volatile bool restart_pending[GUEST_MAX];

void guest_power_event(struct guest *g, enum guest_event ev, const char *fmt, ...)
{
    char what[120];
    va_list ap;

    va_start(ap, fmt);
    fmt_vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    static const char *const names[] = {[GUEST_EVENT_REBOOT] = "reboot",
                                        [GUEST_EVENT_POWEROFF] = "power-off",
                                        [GUEST_EVENT_PANIC] = "kernel panic"};
    bool restart = ev == GUEST_EVENT_POWEROFF ? g->cfg.on_poweroff == GUEST_RESTART
                                              : g->cfg.on_reboot == GUEST_RESTART;
    guest_stop(g, "%s: %s%s", names[ev], what, restart ? "; restarting" : "");
    if (restart && g->id >= 1 && g->id <= GUEST_MAX)
        restart_pending[g->id - 1] = true;
}

void vmm_poll(void)
{
    sidecore_monitor_poll(); /* the I/O-core monitor's epochs */
    for (unsigned i = 0; i < guest_count(); i++) {
        struct guest *g = guest_at(i);
        guest_vconsole_drain(g); /* its sidecore's output, into the console buffer */
        if (restart_pending[g->id - 1] && g->state == GUEST_STOPPED) {
            restart_pending[g->id - 1] = false;
            guest_restart(g);
        }
    }
}
