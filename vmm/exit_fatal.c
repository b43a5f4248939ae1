/* SPDX-License-Identifier: MIT */
/* Exits that end the guest: it touched memory that is not its own, its
 * state became invalid, it triple-faulted, or it did something Sidecore
 * does not support. The report names the guest, the vCPU, the reason, RIP
 * and the faulting address; the other guests never notice. */
#include "vmm/exit.h"
#include "vmm/guest.h"

bool exit_fatal(struct vcpu *v, const struct vcpu_exit *e)
{
    const struct vcpu_ops *ops = vcpu_backend();
    struct guest *g = v->guest;
    unsigned long rip = (unsigned long)ops->read_sreg(v, VCPU_SREG_RIP);

    switch (e->kind) {
    case VCPU_EXIT_MEM_VIOLATION:
        guest_stop(g,
                   "vCPU %u: %s outside its memory at guest-physical %#lx (linear %#lx), "
                   "RIP %#lx",
                   v->index,
                   e->mem.exec    ? "instruction fetch"
                   : e->mem.write ? "write"
                                  : "read",
                   (unsigned long)e->mem.gpa, (unsigned long)e->mem.gla, rip);
        break;
    case VCPU_EXIT_MEM_MISCONFIG:
        guest_stop(g,
                   "vCPU %u: broken second-level tables (EPT/NPT) at guest-physical %#lx, RIP %#lx",
                   v->index, (unsigned long)e->mem.gpa, rip);
        break;
    case VCPU_EXIT_TRIPLE_FAULT:
        guest_stop(g, "vCPU %u: triple fault, RIP %#lx", v->index, rip);
        break;
    case VCPU_EXIT_ENTRY_FAILED:
        guest_stop(g, "vCPU %u: the CPU refused its state (VM entry failure %#x), RIP %#lx",
                   v->index, e->raw_reason, rip);
        break;
    default:
        guest_stop(g, "vCPU %u: unsupported exit %s (%u), RIP %#lx", v->index,
                   ops->exit_name(e->raw_reason), e->raw_reason, rip);
        break;
    }
    return false;
}
