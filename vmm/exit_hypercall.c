/* SPDX-License-Identifier: MIT */
/* VMCALL: Sidecore's hypercalls (vmm/hypercall.h documents the ABI). */
#include "kernel/time/tsc.h"
#include "kernel/x86/cpu.h"
#include "vmm/exit.h"
#include "vmm/guest.h"
#include "vmm/hypercall.h"

#define HC_PRINT_MAX 4096
#define X86_VEC_UD   6

/* The text goes to the guest's console buffer and, line by line, into the
 * console queue (guest_console_write): the vCPU never waits for the UART. */
static int64_t hc_print(struct vcpu *v)
{
    uint64_t gpa = v->gprs[VCPU_RBX], len = v->gprs[VCPU_RCX];

    if (len > HC_PRINT_MAX)
        return HC_EINVAL;
    const char *s = guest_phys_to_host(v->guest, gpa, len);
    if (!s)
        return HC_EFAULT;
    guest_console_write(v->guest, s, len);
    return HC_OK;
}

static int64_t hc_timer(struct vcpu *v)
{
    uint64_t vector = v->gprs[VCPU_RBX], us = v->gprs[VCPU_RCX];

    if (us == 0) {
        /* Cancel, including an expiry not yet delivered (the guest may have
         * had interrupts off since). */
        v->timer_deadline = 0;
        __atomic_fetch_and(&v->pending[v->timer_vector / 64], ~(1ull << (v->timer_vector % 64)),
                           __ATOMIC_ACQ_REL);
        return HC_OK;
    }
    if (vector < 32 || vector > 255 || us > 3600ull * 1000000ull)
        return HC_EINVAL;
    v->timer_vector = (uint8_t)vector;
    v->timer_deadline = rdtsc() + tsc_from_ns(us * 1000);
    return HC_OK;
}

static int64_t hc_info(struct vcpu *v)
{
    v->gprs[VCPU_RBX] = v->index;
    v->gprs[VCPU_RCX] = v->guest->nvcpus;
    v->gprs[VCPU_RDX] = tsc_hz() / 1000;
    return (int64_t)v->guest->mem_size;
}

bool exit_hypercall(struct vcpu *v, const struct vcpu_exit *e)
{
    int64_t result;

    /* Only the guest's kernel may call Sidecore: VMCALL from user mode gets
     * the #UD it gets on a machine without a hypervisor (as under KVM), and
     * does nothing else. RIP stays at the VMCALL, as for any fault. */
    if (vcpu_cpl(v) != 0) {
        v->stats.hc_refused++;
        vcpu_backend()->inject_exception(v, X86_VEC_UD, false, 0);
        return true;
    }
    switch (v->gprs[VCPU_RAX]) {
    case HC_PRINT: result = hc_print(v); break;
    case HC_EXIT:
        v->guest->exited = true;
        v->guest->exit_code = v->gprs[VCPU_RBX];
        guest_stop(v->guest, "exited with code %lu", (unsigned long)v->gprs[VCPU_RBX]);
        return false;
    case HC_TIMER: result = hc_timer(v); break;
    case HC_INFO: result = hc_info(v); break;
    default: result = HC_ENOSYS; break;
    }
    v->gprs[VCPU_RAX] = (uint64_t)result;
    vcpu_backend()->skip_instruction(v, e);
    return true;
}
