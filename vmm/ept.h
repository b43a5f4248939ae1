/* SPDX-License-Identifier: MIT */
/*
 * Builder for the second-level tables (4-level walk) that confine a guest
 * to its own memory: Intel EPT, or AMD NPT (nested paging: ordinary x86-64
 * page tables, chosen with EPT_FORMAT_NPT). Both formats map exactly the
 * same way; only the entries' encoding differs. Pure logic over memory the caller provides through callbacks, so
 * the same code runs in the hypervisor (identity-mapped pages from the page
 * allocator) and in host unit tests (pages of a test buffer). Mapping picks
 * the largest page that alignment and size allow, refuses anything that
 * overlaps an existing mapping, and never leaves a half-made mapping behind.
 * Changing a live EPT (unmap) needs an INVEPT by the caller afterwards.
 */
#ifndef SIDECORE_VMM_EPT_H
#define SIDECORE_VMM_EPT_H

#include <stdbool.h>
#include <stdint.h>

/* Access rights of a mapping (the EPT entry's bits 2:0). */
#define EPT_R   (1u << 0)
#define EPT_W   (1u << 1)
#define EPT_X   (1u << 2)
#define EPT_RWX (EPT_R | EPT_W | EPT_X)

/* EPT memory types (leaf bits 5:3, and EPTP bits 2:0). */
#define EPT_MT_UC 0u /* uncacheable: MMIO */
#define EPT_MT_WC 1u
#define EPT_MT_WT 4u
#define EPT_MT_WP 5u
#define EPT_MT_WB 6u /* write-back: RAM */

#define EPT_PAGE_4K (1ull << 12)
#define EPT_PAGE_2M (1ull << 21)
#define EPT_PAGE_1G (1ull << 30)

/* Flags for ept_init: which large pages the CPU supports
 * (IA32_VMX_EPT_VPID_CAP bits 16 and 17). */
#define EPT_ALLOW_2M (1u << 0)
#define EPT_ALLOW_1G (1u << 1)
/* Build AMD NPT entries instead of EPT ones (the backend's choice,
 * vcpu_caps.slat_format). NPT cannot express execute-only (EPT_E_PERMS),
 * and the hardware gets WC and WP mappings as UC. */
#define EPT_FORMAT_NPT (1u << 2)

/* A 4-level EPT covers 48 bits of guest-physical space; host-physical
 * addresses are limited to 52 bits by the entry format. */
#define EPT_GPA_LIMIT (1ull << 48)
#define EPT_HPA_LIMIT (1ull << 52)

enum ept_status {
    EPT_OK = 0,
    EPT_E_ALIGN,   /* gpa, hpa or size not 4 KiB aligned, or size 0 */
    EPT_E_RANGE,   /* beyond EPT_GPA_LIMIT / EPT_HPA_LIMIT, or wraps */
    EPT_E_OVERLAP, /* part of the range is already mapped */
    EPT_E_PERMS,   /* no access, or write without read (an EPT misconfiguration) */
    EPT_E_MEMTYPE, /* not one of UC, WC, WT, WP, WB */
    EPT_E_NOMEM,   /* alloc_page failed; the EPT is unchanged */
};

/* How the builder gets and returns table pages. alloc_page returns the
 * host-physical address of a 4 KiB-aligned page (it need not be zeroed), or
 * 0 when out of memory; phys_to_ptr turns such an address into a pointer
 * (identity in the hypervisor). free_page may be NULL (pages are then
 * simply forgotten). */
struct ept_ops {
    uint64_t (*alloc_page)(void *ctx);
    void *(*phys_to_ptr)(void *ctx, uint64_t hpa);
    void (*free_page)(void *ctx, uint64_t hpa);
    void *ctx;
};

struct ept {
    struct ept_ops ops;
    uint64_t pml4; /* host-physical address of the top table */
    unsigned flags;
    unsigned tables; /* table pages in use, PML4 included */
};

/* What ept_lookup found for one guest-physical address. */
struct ept_mapping {
    uint64_t hpa;       /* host-physical address of the gpa asked about */
    uint64_t page_size; /* EPT_PAGE_4K, _2M or _1G */
    unsigned perms;     /* EPT_R | EPT_W | EPT_X */
    unsigned memtype;   /* EPT_MT_* */
};

/* Allocates the PML4. flags: EPT_ALLOW_2M / EPT_ALLOW_1G. */
enum ept_status ept_init(struct ept *ept, const struct ept_ops *ops, unsigned flags);

/*
 * Maps [gpa, gpa+size) to [hpa, hpa+size) with perms and memtype (EPT_MT_WB
 * for RAM, EPT_MT_UC for MMIO), using 1 GiB and 2 MiB pages wherever both
 * addresses are aligned for them and ept_init allowed them. All of the range
 * must be unmapped; on any error nothing changes.
 */
enum ept_status ept_map(struct ept *ept, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned perms,
                        unsigned memtype);

/*
 * Removes every mapping in [gpa, gpa+size) (4 KiB aligned). A large page
 * that straddles an end is first split into smaller pages so the rest of it
 * stays mapped. Unmapped parts of the range are fine. On EPT_E_NOMEM (a split
 * needed a page) the translation is unchanged. The caller must INVEPT.
 */
enum ept_status ept_unmap(struct ept *ept, uint64_t gpa, uint64_t size);

/* Translates one guest-physical address; false if it is not mapped. */
bool ept_lookup(const struct ept *ept, uint64_t gpa, struct ept_mapping *out);

/* Calls fn for every leaf (in ascending gpa order) until it returns false. */
typedef bool (*ept_leaf_fn)(void *ctx, uint64_t gpa, const struct ept_mapping *m);
void ept_for_each_leaf(const struct ept *ept, ept_leaf_fn fn, void *ctx);

/* The VMCS EPT pointer: WB paging-structure memory type, 4-level walk,
 * accessed/dirty flags if ad_bits (only if IA32_VMX_EPT_VPID_CAP bit 21). */
uint64_t ept_eptp(const struct ept *ept, bool ad_bits);

/* The nested CR3 for SVM (NPT format): the PML4's host-physical address. */
uint64_t ept_npt_root(const struct ept *ept);

/* Returns every table page through ops.free_page; the EPT is then empty and
 * must be ept_init'ed again before use. */
void ept_destroy(struct ept *ept);

const char *ept_status_name(enum ept_status s);

#endif
