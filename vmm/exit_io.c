/* SPDX-License-Identifier: MIT */
/* Port I/O: the policy table (vmm/io_policy.c) says what each port is; the
 * console UART is emulated, reset and power requests end or restart the
 * guest, and ports with no device read as all ones. */
#include "vmm/exit.h"
#include "vmm/guest.h"
#include "vmm/guest_devices.h"
#include "vmm/io_policy.h"

bool exit_io(struct vcpu *v, const struct vcpu_exit *e)
{
    const struct vcpu_ops *ops = vcpu_backend();
    unsigned size = e->io.size;
    const struct io_policy_entry *p = io_policy_lookup(e->io.port);

    if (e->io.string) {
        guest_stop(v->guest,
                   "vCPU %u: string I/O (INS/OUTS) on port %#x is not supported, RIP %#lx",
                   v->index, e->io.port, (unsigned long)ops->read_sreg(v, VCPU_SREG_RIP));
        return false;
    }
    ops->skip_instruction(v, e);
    if (e->io.in) {
        uint32_t value = 0;
        guest_device_in(v, p, e->io.port, size, &value);
        uint64_t *rax = &v->gprs[VCPU_RAX];
        if (size == 1)
            *rax = (*rax & ~0xffull) | (value & 0xff);
        else if (size == 2)
            *rax = (*rax & ~0xffffull) | (value & 0xffff);
        else
            *rax = value; /* a 32-bit write clears bits 63:32 */
        return true;
    }
    uint32_t mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    return guest_device_out(v, p, e->io.port, size, (uint32_t)v->gprs[VCPU_RAX] & mask);
}
