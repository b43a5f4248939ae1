/* SPDX-License-Identifier: MIT */
/*
 * The posted-interrupt descriptor: the 64-byte, 64-byte-aligned block in
 * which other CPUs post interrupts for a vCPU (Intel SDM vol. 3C, 29.6
 * "Posted-Interrupt Processing", table 29-1). The CPU itself defines only
 * the posted-interrupt requests (PIR, bits 255:0, one per vector) and the
 * outstanding-notification bit (ON, bit 256); it leaves bits 511:257 to
 * software. Sidecore fills them with the layout the VT-d specification
 * gives its posted-interrupt descriptor (suppress notification SN at 257,
 * notification vector NV at 279:272, notification destination NDST at
 * 319:288), so the same descriptor can later be handed to an IOMMU.
 *
 * The protocol. A poster sets the vector's PIR bit, then sets ON unless it
 * is already set or SN is set; only the poster that set ON sends the
 * notification interrupt. Whoever consumes the descriptor (the CPU on that
 * notification in VMX non-root operation, or the hypervisor before VM entry
 * with pi_desc_take) clears ON first and then empties PIR, so a vector is
 * either seen by that take or its poster finds ON clear and notifies again.
 * Pure code (atomic builtins only), host-tested with concurrent posters.
 */
#ifndef SIDECORE_VMM_VMX_VMX_PI_DESC_H
#define SIDECORE_VMM_VMX_VMX_PI_DESC_H

#include <stdbool.h>
#include <stdint.h>

/* Bit positions within the 512-bit descriptor. */
#define PI_DESC_BIT_ON         256
#define PI_DESC_BIT_SN         257
#define PI_DESC_BIT_NV_SHIFT   272 /* bits 279:272 */
#define PI_DESC_BIT_NDST_SHIFT 288 /* bits 319:288 */

/* The same fields within the control word (descriptor bits 319:256). */
#define PI_CTL_ON         (1ull << (PI_DESC_BIT_ON - 256))
#define PI_CTL_SN         (1ull << (PI_DESC_BIT_SN - 256))
#define PI_CTL_NV_SHIFT   (PI_DESC_BIT_NV_SHIFT - 256)
#define PI_CTL_NV_MASK    (0xffull << PI_CTL_NV_SHIFT)
#define PI_CTL_NDST_SHIFT (PI_DESC_BIT_NDST_SHIFT - 256)
#define PI_CTL_NDST_MASK  (0xffffffffull << PI_CTL_NDST_SHIFT)

/* The lowest notification vector pi_desc_init() takes: 0-31 are exception
 * vectors in the host's IDT (and 0-15 illegal for the APIC). */
#define PI_DESC_MIN_NV 32

struct pi_desc {
    uint64_t pir[4];  /* bit n of the descriptor = bit n % 64 of pir[n / 64] */
    uint64_t control; /* bits 319:256: ON, SN, NV, NDST */
    uint64_t software[3];
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct pi_desc) == 64, "the posted-interrupt descriptor is 64 bytes");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "descriptor bits are little-endian");

/* The NDST value for a physical APIC ID: the whole 32-bit ID in x2APIC
 * mode, the 8-bit ID in bits 15:8 in xAPIC mode. False if the ID does not
 * fit the mode (xAPIC IDs are 8 bits). */
bool pi_desc_ndst(uint32_t apic_id, bool x2apic, uint32_t *ndst);

/* Clears the descriptor (no requests, ON and SN clear) and sets NV and NDST.
 * False, leaving it untouched, if nv < PI_DESC_MIN_NV. Not safe against
 * concurrent posters: call it before publishing the descriptor. */
bool pi_desc_init(struct pi_desc *d, uint8_t nv, uint32_t ndst);

/*
 * Posts vector (any CPU, concurrently with other posters and one taker):
 * sets its PIR bit, then ON unless ON or SN is already set. Returns true
 * only if this call set ON: the caller must then send the notification
 * vector to the destination. False means either an earlier notification is
 * still outstanding (ON was set; it will see this vector) or notifications
 * are suppressed (SN; the vector waits in PIR for the next take).
 */
bool pi_desc_post(struct pi_desc *d, uint8_t vector);

/* Takes every posted vector (the owner, one taker at a time): clears ON,
 * then exchanges each non-empty PIR word with 0. out gets the vectors as a
 * 256-bit bitmap in the APIC's IRR layout (bit v % 32 of out[v / 32]).
 * Returns whether any vector was taken. */
bool pi_desc_take(struct pi_desc *d, uint32_t out[8]);

/* Takes one vector back (a poster that learnt, after posting, that the
 * owner no longer reads the descriptor): clears its PIR bit atomically.
 * True if the bit was still set, so no take saw it and the caller must
 * deliver the vector another way; false if a take already had it. */
bool pi_desc_reclaim(struct pi_desc *d, uint8_t vector);

/* Whether any request waits in PIR (a hint; it may change at once). */
bool pi_desc_pending(const struct pi_desc *d);

/* Sets or clears SN (e.g. while the vCPU is moved to another CPU). Clearing
 * it returns true when vectors were posted meanwhile and this call set ON
 * for them: the caller must then send the notification, as a poster would. */
bool pi_desc_set_suppress(struct pi_desc *d, bool suppress);

/* Changes NDST atomically, keeping ON, SN and NV (migration). */
void pi_desc_set_dest(struct pi_desc *d, uint32_t ndst);

/* Field readers (atomic loads), for callers and tests. */
bool pi_desc_on(const struct pi_desc *d);
bool pi_desc_sn(const struct pi_desc *d);
uint8_t pi_desc_nv(const struct pi_desc *d);
uint32_t pi_desc_dest(const struct pi_desc *d);

#endif
