/* SPDX-License-Identifier: MIT */
/*
 * Translating a guest linear address to guest-physical by walking the
 * guest's own page tables, as the CPU would in the guest's paging mode: no
 * paging, 32-bit two-level (with 4 MiB pages under CR4.PSE, PSE-36 address
 * bits included), PAE three-level (2 MiB pages), and 4-level long mode
 * (2 MiB and 1 GiB pages; 5-level when CR4.LA57 is set). The hypervisor needs
 * it to read the instruction at the guest's RIP after an EPT violation on
 * emulated MMIO, and any other guest memory named by a linear address.
 * Guest memory is reached only through a callback that reads one aligned
 * 8-byte word of guest-physical memory and may refuse (outside the guest),
 * so a hostile CR3 or page table cannot make the walker touch anything else.
 * It reports absent entries and set reserved bits as the #PF the CPU would
 * raise (with its error code); it does not check access rights (R/W, U/S,
 * NX, SMEP/SMAP, protection keys) and does not set accessed/dirty bits:
 * its callers read what the guest itself just accessed. Pure code,
 * host-tested.
 */
#ifndef SIDECORE_VMM_DECODE_GUEST_WALK_H
#define SIDECORE_VMM_DECODE_GUEST_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads the 8 bytes of guest-physical memory at gpa (8-byte aligned) into
 * *value; false when they are not guest memory. */
typedef bool (*guest_read8_fn)(void *ctx, uint64_t gpa, uint64_t *value);

struct guest_paging {
    uint64_t cr0, cr3, cr4, efer;
    unsigned phys_bits; /* the guest's MAXPHYADDR (CPUID 0x80000008); 0 means 52 */
    /* PAE only: the four PDPTEs the CPU holds (with EPT, the VMCS guest
     * PDPTE fields), or NULL to read them from memory at CR3. */
    const uint64_t *pdptes;
    guest_read8_fn read8;
    void *ctx;
};

enum guest_paging_mode {
    GUEST_PAGING_NONE,
    GUEST_PAGING_32,
    GUEST_PAGING_PAE,
    GUEST_PAGING_4LEVEL,
    GUEST_PAGING_5LEVEL,
};

enum guest_walk_status {
    GUEST_WALK_OK,
    GUEST_WALK_NOT_PRESENT,  /* #PF, P clear in an entry */
    GUEST_WALK_RESERVED,     /* #PF with RSVD: a reserved bit set in an entry */
    GUEST_WALK_NONCANONICAL, /* the CPU raises #GP, not #PF */
    GUEST_WALK_NO_MEMORY,    /* a table (or the data) lies outside guest memory */
};

/* Access kinds, for the error code of a fault. */
#define GUEST_ACCESS_WRITE 0x1u
#define GUEST_ACCESS_USER  0x2u
#define GUEST_ACCESS_FETCH 0x4u

/* #PF error code bits. */
#define GUEST_PF_P    0x01u
#define GUEST_PF_W    0x02u
#define GUEST_PF_U    0x04u
#define GUEST_PF_RSVD 0x08u
#define GUEST_PF_I    0x10u

struct guest_walk {
    enum guest_walk_status status;
    uint64_t gpa;       /* the translation (OK) */
    uint64_t page_size; /* 4 KiB, 2 MiB, 4 MiB or 1 GiB (OK); 0 without paging */
    unsigned level;     /* the entry the walk ended at: 1 = PTE .. 5 = PML5E; 0 none */
    uint64_t entry;     /* that entry's value */
    uint64_t entry_gpa; /* and where it is */
    uint32_t pf_error;  /* the #PF error code (NOT_PRESENT, RESERVED) */
};

enum guest_paging_mode guest_paging_mode(const struct guest_paging *p);
const char *guest_walk_status_name(enum guest_walk_status status);

/* Translates linear; access is a GUEST_ACCESS_* mask used only for the
 * error code. Always fills *out; returns out->status. */
enum guest_walk_status guest_walk(const struct guest_paging *p, uint64_t linear, unsigned access,
                                  struct guest_walk *out);

/* Copies len bytes at linear into buf, translating each page (outside long
 * mode the address wraps at 4 GiB as the CPU's does). Returns how many bytes
 * were copied; when fewer than len, *fault (if not NULL) says why. For the
 * instruction at RIP: linear = CS base + RIP (32-bit wrap outside 64-bit
 * mode), len = 15, access GUEST_ACCESS_FETCH, and give the decoder the
 * number of bytes this returns. */
size_t guest_read_linear(const struct guest_paging *p, uint64_t linear, void *buf, size_t len,
                         unsigned access, struct guest_walk *fault);

#endif
