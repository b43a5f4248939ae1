/* SPDX-License-Identifier: MIT */
#include "kernel/config/hv_config.h"

#include "kernel/config/ini.h"
#include "kernel/console/console.h"
#include "kernel/console/console_spec.h"
#include "kernel/console/log.h"
#include "kernel/lib/string.h"

static bool apicv_allowed = true;

bool hv_config_apicv_allowed(void)
{
    return apicv_allowed;
}

static void on_item(void *ctx, const struct ini_item *it)
{
    if (strcmp(it->section, "hypervisor") != 0)
        return; /* guest sections are read by the partition code */
    if (strcmp(it->key, "console") == 0) {
        uint16_t port = console_port();
        uint32_t baud = console_baud();
        if (!console_spec_parse(it->value, &port, &baud)) {
            log_error("%s:%u: bad console '%s' (want comN[,speed] or an I/O port)",
                      CONFIG_FILE_NAME, it->line, it->value);
            return;
        }
        if (port != console_port() || baud != console_baud()) {
            log_info("console moves to port %#x at %u baud (%s:%u)", port, baud, CONFIG_FILE_NAME,
                     it->line);
            console_init(port, baud);
        }
        return;
    }
    if (strcmp(it->key, "sidecores") == 0)
        return; /* read by the I/O sidecore setup */
    if (strcmp(it->key, "apic_virtualization") == 0) {
        if (strcmp(it->value, "auto") == 0 || strcmp(it->value, "off") == 0)
            apicv_allowed = strcmp(it->value, "auto") == 0;
        else
            log_error("%s:%u: apic_virtualization = %s: must be 'auto' or 'off'", CONFIG_FILE_NAME,
                      it->line, it->value);
        return;
    }
    log_error("%s:%u: unknown key '%s' in [hypervisor]", CONFIG_FILE_NAME, it->line, it->key);
}

void hv_config_apply(const struct handoff *h)
{
    for (uint32_t i = 0; i < h->file_count; i++) {
        if (strcmp(h->files[i].name, CONFIG_FILE_NAME) != 0)
            continue;
        /* Syntax errors are reported once, by the guest configuration
         * parser (vmm/vmm.c), which reads the whole file. */
        struct ini_handlers handlers = {.item = on_item};
        ini_parse((const char *)(uintptr_t)h->files[i].base, h->files[i].size, &handlers);
        return;
    }
    log_warn("no %s among the boot files; using defaults", CONFIG_FILE_NAME);
}
