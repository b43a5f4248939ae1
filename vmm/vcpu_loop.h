/* SPDX-License-Identifier: MIT */
/* A vCPU's life on its dedicated core: enable virtualization, build the
 * vCPU, run it and dispatch its exits until the guest stops. */
#ifndef SIDECORE_VMM_VCPU_LOOP_H
#define SIDECORE_VMM_VCPU_LOOP_H

/* Runs on the vCPU's CPU (posted with cpu_post_work); arg is a struct vcpu. */
void vcpu_loop_run(void *arg);

#endif
