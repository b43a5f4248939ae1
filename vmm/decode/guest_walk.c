/* SPDX-License-Identifier: MIT */
/*
 * The page-table walker behind vmm/decode/guest_walk.h. The PAE and long
 * mode walks share one loop over levels (9 index bits per level); the
 * 32-bit format with its 4-byte entries has its own short walk. Reserved
 * bits are computed per level from MAXPHYADDR and EFER.NXE, as the SDM's
 * tables for each paging mode give them.
 */
#include "vmm/decode/guest_walk.h"

#define CR0_PG    (1ull << 31)
#define CR4_PSE   (1ull << 4)
#define CR4_PAE   (1ull << 5)
#define CR4_LA57  (1ull << 12)
#define EFER_LMA  (1ull << 10)
#define EFER_NXE  (1ull << 11)
#define PTE_P     (1ull << 0)
#define PTE_PS    (1ull << 7)
#define PTE_XD    (1ull << 63)
#define PAGE_SIZE 4096ull

enum guest_paging_mode guest_paging_mode(const struct guest_paging *p)
{
    if (!(p->cr0 & CR0_PG))
        return GUEST_PAGING_NONE;
    if (!(p->cr4 & CR4_PAE))
        return GUEST_PAGING_32;
    if (!(p->efer & EFER_LMA))
        return GUEST_PAGING_PAE;
    return (p->cr4 & CR4_LA57) ? GUEST_PAGING_5LEVEL : GUEST_PAGING_4LEVEL;
}

const char *guest_walk_status_name(enum guest_walk_status status)
{
    switch (status) {
    case GUEST_WALK_OK: return "ok";
    case GUEST_WALK_NOT_PRESENT: return "page not present";
    case GUEST_WALK_RESERVED: return "reserved bit set in a paging entry";
    case GUEST_WALK_NONCANONICAL: return "non-canonical address";
    case GUEST_WALK_NO_MEMORY: return "outside guest memory";
    default: return "unknown status";
    }
}

static unsigned phys_bits(const struct guest_paging *p)
{
    return p->phys_bits && p->phys_bits <= 52 ? p->phys_bits : 52;
}

/* Bits 51:0 below MAXPHYADDR: the part of an entry that can hold an address. */
static uint64_t phys_mask(const struct guest_paging *p)
{
    return (1ull << phys_bits(p)) - 1;
}

static bool read_entry(const struct guest_paging *p, uint64_t gpa, unsigned width, uint64_t *v)
{
    uint64_t word;

    if (!p->read8 || !p->read8(p->ctx, gpa & ~7ull, &word))
        return false;
    if (width == 4)
        word = (gpa & 4) ? word >> 32 : word & 0xffffffffu;
    *v = word;
    return true;
}

static enum guest_walk_status fault(struct guest_walk *out, enum guest_walk_status status,
                                    unsigned access)
{
    out->status = status;
    out->gpa = 0;
    out->page_size = 0;
    if (status == GUEST_WALK_NOT_PRESENT || status == GUEST_WALK_RESERVED) {
        uint32_t e = status == GUEST_WALK_RESERVED ? GUEST_PF_P | GUEST_PF_RSVD : 0;
        if (access & GUEST_ACCESS_WRITE)
            e |= GUEST_PF_W;
        if (access & GUEST_ACCESS_USER)
            e |= GUEST_PF_U;
        if (access & GUEST_ACCESS_FETCH)
            e |= GUEST_PF_I;
        out->pf_error = e;
    }
    return status;
}

static enum guest_walk_status found(struct guest_walk *out, uint64_t gpa, uint64_t page_size)
{
    out->status = GUEST_WALK_OK;
    out->gpa = gpa;
    out->page_size = page_size;
    return GUEST_WALK_OK;
}

static enum guest_walk_status walk32(const struct guest_paging *p, uint32_t linear, unsigned access,
                                     struct guest_walk *out)
{
    uint64_t pde, pte;
    uint64_t pde_gpa = (p->cr3 & 0xfffff000u) | ((linear >> 22) & 0x3ffu) * 4;

    out->level = 2;
    out->entry_gpa = pde_gpa;
    if (!read_entry(p, pde_gpa, 4, &pde))
        return fault(out, GUEST_WALK_NO_MEMORY, access);
    out->entry = pde;
    if (!(pde & PTE_P))
        return fault(out, GUEST_WALK_NOT_PRESENT, access);
    if ((pde & PTE_PS) && (p->cr4 & CR4_PSE)) {
        /* 4 MiB page: bits 20:13 are physical bits 39:32 (PSE-36), bit 21
         * is reserved, and so are the PSE-36 bits above MAXPHYADDR. */
        unsigned bits = phys_bits(p);
        unsigned high_bits = bits >= 40 ? 8 : bits > 32 ? bits - 32 : 0;
        uint64_t reserved = (1ull << 21) | (((1ull << (8 - high_bits)) - 1) << (13 + high_bits));
        if (pde & reserved)
            return fault(out, GUEST_WALK_RESERVED, access);
        uint64_t base = (pde & 0xffc00000u) | ((pde >> 13) & 0xff) << 32;
        return found(out, base | (linear & 0x3fffffu), 4ull << 20);
    }
    uint64_t pte_gpa = (pde & 0xfffff000u) | ((linear >> 12) & 0x3ffu) * 4;
    out->level = 1;
    out->entry_gpa = pte_gpa;
    if (!read_entry(p, pte_gpa, 4, &pte))
        return fault(out, GUEST_WALK_NO_MEMORY, access);
    out->entry = pte;
    if (!(pte & PTE_P))
        return fault(out, GUEST_WALK_NOT_PRESENT, access);
    return found(out, (pte & 0xfffff000u) | (linear & 0xfffu), PAGE_SIZE);
}

/* Reserved bits of a present 8-byte entry at level (1 = PTE) in PAE or
 * long mode, given whether it maps a page (PS) there. */
static uint64_t reserved_bits(const struct guest_paging *p, unsigned level, bool large, bool pae,
                              bool pae_pdpte)
{
    /* Bits 51:MAXPHYADDR; PAE paging reserves up to bit 62 (long mode
     * leaves 62:52 to software and protection keys). */
    uint64_t r = ~phys_mask(p) & ((1ull << (pae ? 63 : 52)) - 1);

    if (pae_pdpte)
        return r | PTE_XD | 0x1e6; /* bits 2:1 and 8:5; XD is not defined */
    if (!(p->efer & EFER_NXE))
        r |= PTE_XD;
    if (large)
        r |= ((1ull << (12 + 9 * (level - 1))) - 1) & ~0x1fffull; /* below the page, but PAT */
    return r;
}

static enum guest_walk_status walk_pae_long(const struct guest_paging *p, uint64_t linear,
                                            unsigned top, unsigned access, struct guest_walk *out)
{
    uint64_t table = p->cr3 & phys_mask(p) & ~0xfffull;
    bool pae = top == 3;

    if (pae)
        table = p->cr3 & 0xffffffe0u; /* the PDPT is 32-byte aligned below 4 GiB */
    for (unsigned level = top; level >= 1; level--) {
        unsigned shift = 12 + 9 * (level - 1);
        uint64_t index = (linear >> shift) & (pae && level == 3 ? 3 : 0x1ff);
        uint64_t entry_gpa = table + index * 8, entry;

        out->level = level;
        out->entry_gpa = entry_gpa;
        if (pae && level == 3 && p->pdptes) {
            entry = p->pdptes[index];
        } else if (!read_entry(p, entry_gpa, 8, &entry)) {
            return fault(out, GUEST_WALK_NO_MEMORY, access);
        }
        out->entry = entry;
        if (!(entry & PTE_P))
            return fault(out, GUEST_WALK_NOT_PRESENT, access);
        bool pae_pdpte = pae && level == 3;
        /* PS maps a page at level 2 (2 MiB) and, in long mode, level 3
         * (1 GiB); above that it is reserved. */
        bool ps = !pae_pdpte && (entry & PTE_PS);
        if (ps && level > 3)
            return fault(out, GUEST_WALK_RESERVED, access);
        bool large = ps && level > 1;
        if (entry & reserved_bits(p, level, large, pae, pae_pdpte))
            return fault(out, GUEST_WALK_RESERVED, access);
        uint64_t frame = entry & phys_mask(p) & ~0xfffull;
        if (large || level == 1) {
            uint64_t page = 1ull << shift;
            return found(out, (frame & ~(page - 1)) | (linear & (page - 1)), page);
        }
        table = frame;
    }
    return fault(out, GUEST_WALK_NOT_PRESENT, access); /* not reached */
}

static bool canonical(uint64_t linear, unsigned bits)
{
    uint64_t top = linear >> (bits - 1);
    return top == 0 || top == (~0ull >> (bits - 1));
}

enum guest_walk_status guest_walk(const struct guest_paging *p, uint64_t linear, unsigned access,
                                  struct guest_walk *out)
{
    *out = (struct guest_walk){0};
    switch (guest_paging_mode(p)) {
    case GUEST_PAGING_NONE: return found(out, linear & 0xffffffffu, 0);
    case GUEST_PAGING_32: return walk32(p, (uint32_t)linear, access, out);
    case GUEST_PAGING_PAE: return walk_pae_long(p, linear & 0xffffffffu, 3, access, out);
    case GUEST_PAGING_4LEVEL:
        if (!canonical(linear, 48))
            return fault(out, GUEST_WALK_NONCANONICAL, access);
        return walk_pae_long(p, linear, 4, access, out);
    case GUEST_PAGING_5LEVEL:
        if (!canonical(linear, 57))
            return fault(out, GUEST_WALK_NONCANONICAL, access);
        return walk_pae_long(p, linear, 5, access, out);
    }
    return fault(out, GUEST_WALK_NO_MEMORY, access);
}

size_t guest_read_linear(const struct guest_paging *p, uint64_t linear, void *buf, size_t len,
                         unsigned access, struct guest_walk *fault_out)
{
    bool wrap32 = guest_paging_mode(p) < GUEST_PAGING_4LEVEL;
    uint8_t *dst = buf;
    struct guest_walk w;
    uint64_t page = 1, word = 0, word_gpa = 1; /* no page or word cached yet */

    for (size_t i = 0; i < len; i++) {
        uint64_t la = linear + i;
        if (wrap32)
            la &= 0xffffffffu;
        /* Translate once per 4 KiB (any page is at least that large). */
        if (page == 1 || (la & ~0xfffull) != page) {
            if (guest_walk(p, la & ~0xfffull, access, &w) != GUEST_WALK_OK) {
                if (fault_out)
                    *fault_out = w;
                return i;
            }
            page = la & ~0xfffull;
        }
        uint64_t gpa = w.gpa + (la & 0xfff);
        if ((gpa & ~7ull) != word_gpa) {
            if (!p->read8 || !p->read8(p->ctx, gpa & ~7ull, &word)) {
                if (fault_out) {
                    *fault_out = (struct guest_walk){.status = GUEST_WALK_NO_MEMORY, .gpa = gpa};
                }
                return i;
            }
            word_gpa = gpa & ~7ull;
        }
        dst[i] = (uint8_t)(word >> (8 * (gpa & 7)));
    }
    return len;
}
