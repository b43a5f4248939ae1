/* SPDX-License-Identifier: MIT */
/* Restarting the machine (the shell's `reboot`). */
#ifndef SIDECORE_POWER_REBOOT_H
#define SIDECORE_POWER_REBOOT_H

/*
 * Resets the machine, trying in turn the ACPI FADT reset register (when the
 * FADT says it is supported), the chipset reset control port 0xCF9, the 8042
 * keyboard controller and finally a triple fault. Logs each method tried.
 */
__attribute__((noreturn)) void reboot_machine(void);

#endif
