/* SPDX-License-Identifier: MIT */
/* Restarting the machine (the shell's `reboot`). */
#ifndef SIDECORE_POWER_REBOOT_H
#define SIDECORE_POWER_REBOOT_H

typedef void (*reboot_hook_fn)(void);

/* Registers a function to run before the machine is reset (e.g. a driver's
 * orderly device shutdown, so acknowledged writes reach the media). Hooks
 * run in registration order; at most REBOOT_MAX_HOOKS. */
#define REBOOT_MAX_HOOKS 8
void reboot_register_hook(reboot_hook_fn fn);

/*
 * Runs the reboot hooks, then resets the machine, trying in turn the ACPI FADT reset register (when the
 * FADT says it is supported), the chipset reset control port 0xCF9, the 8042
 * keyboard controller and finally a triple fault. Logs each method tried.
 */
__attribute__((noreturn)) void reboot_machine(void);

#endif
