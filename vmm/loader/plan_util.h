/* SPDX-License-Identifier: MIT */
/*
 * Helpers the format-specific planners share: failing with a message,
 * recording the guest-physical ranges a plan uses (and refusing overlaps),
 * finding free room for tables and boot data, and reading little-endian
 * fields from untrusted bytes. Internal to vmm/loader/.
 */
#ifndef SIDECORE_VMM_LOADER_PLAN_UTIL_H
#define SIDECORE_VMM_LOADER_PLAN_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/lib/string.h"
#include "vmm/loader/boot_plan.h"

#define GIB4 (1ull << 32)

/* Flat GDT descriptors the plans load, and the control-register bits of
 * their entry states. */
#define GDT_CODE64 0x00af9b000000ffffull /* present, ring 0, exec/read, accessed, L, G */
#define GDT_CODE32 0x00cf9b000000ffffull /* same with D instead of L */
#define GDT_DATA   0x00cf93000000ffffull /* present, ring 0, read/write, accessed, B, G */

#define CR0_PE   (1ull << 0)
#define CR0_ET   (1ull << 4)
#define CR0_NE   (1ull << 5)
#define CR0_PG   (1ull << 31)
#define CR4_PAE  (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

#define PAGE_4K 0x1000ull
#define PAGE_2M (1ull << 21)
#define PAGE_1G (1ull << 30)

/* The segment register state a flat GDT descriptor gives (base 0, limit 4 GiB). */
static inline struct boot_segment plan_segment(uint64_t desc, uint16_t sel)
{
    return (struct boot_segment){sel, 0, 0xffffffffu, (uint16_t)((desc >> 40) & 0xf0ff)};
}

/* Formats the error into plan->error; returns false for `return plan_fail(...)`. */
bool plan_fail(struct guest_boot_plan *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Whether [start, start+size) lies inside [0, limit) without wrapping. */
static inline bool range_within(uint64_t start, uint64_t size, uint64_t limit)
{
    return size <= limit && start <= limit - size;
}

static inline uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* Records [start, start+size) as used by `what`; fails (with a message
 * naming both) if it overlaps a range already recorded. */
bool plan_reserve(struct guest_boot_plan *p, uint64_t start, uint64_t size, const char *what);

/* The highest align-aligned gpa >= 4 KiB with [gpa, gpa+size) below limit and
 * clear of every reserved range; false if there is none. */
bool plan_find_free(const struct guest_boot_plan *p, uint64_t size, uint64_t align, uint64_t limit,
                    uint64_t *gpa);

/* Adds a copy (and reserves its range as `what`). The caller has checked
 * the source bytes exist; this checks the target lies below limit. */
bool plan_add_copy(struct guest_boot_plan *p, enum boot_source src, uint64_t offset, uint64_t gpa,
                   uint64_t file_size, uint64_t mem_size, uint64_t limit, const char *what);

/* Carves size bytes (8-aligned) out of plan->data and adds a blob at gpa;
 * returns a pointer to fill, or NULL (with plan->error set) if full. */
uint8_t *plan_add_blob(struct guest_boot_plan *p, const char *what, uint64_t gpa, uint32_t size);

static inline uint16_t rd16(const uint8_t *b)
{
    uint16_t v;
    memcpy(&v, b, sizeof(v));
    return v;
}

static inline uint32_t rd32(const uint8_t *b)
{
    uint32_t v;
    memcpy(&v, b, sizeof(v));
    return v;
}

static inline uint64_t rd64(const uint8_t *b)
{
    uint64_t v;
    memcpy(&v, b, sizeof(v));
    return v;
}

static inline void wr32(uint8_t *b, uint32_t v)
{
    memcpy(b, &v, sizeof(v));
}

static inline void wr64(uint8_t *b, uint64_t v)
{
    memcpy(b, &v, sizeof(v));
}

/* What the ELF reader found (elf_plan.c). */
struct elf_load_result {
    bool is64;
    uint16_t machine;
    uint64_t entry_phys; /* e_entry, translated to its load address */
    uint64_t load_end;   /* highest byte loaded + 1 */
};

/* Plans the PT_LOAD segments of the ELF in img below limit; with need_entry
 * the entry point (e_entry) must lie in a segment's file bytes (a PVH kernel
 * is entered elsewhere: entry_phys is then 0 if it does not). */
bool elf_plan_segments(struct guest_boot_plan *p, const struct guest_image *img, uint64_t limit,
                       bool need_entry, struct elf_load_result *out);

/* Finds the first note called name with the given type in the ELF's
 * PT_NOTE segments; true with its descriptor's file offset and size (inside
 * the file). Segments or notes that run past their bounds are not searched:
 * such an image is then not taken for what the note would announce. */
bool elf_find_note(const struct guest_image *img, const char *name, uint32_t type,
                   uint64_t *desc_offset, uint32_t *desc_size);

/* Whether the image starts with the ELF magic. */
bool elf_has_magic(const struct guest_image *img);

/* Whether gpa lies in the file bytes of a planned image copy. */
bool plan_gpa_in_image(const struct guest_boot_plan *p, uint64_t gpa);

/* Entry-state pieces (entry_state.c). */
bool plan_entry_long64(struct guest_boot_plan *p, uint64_t rip);
bool plan_entry_prot32(struct guest_boot_plan *p, uint64_t rip);

/* The address fields of a multiboot v1 header and of a multiboot2 address
 * tag (the same four), and the file offset of the header they are in. */
struct mb_address {
    uint64_t header_offset;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr;
};

/* How the messages and the plan name a multiboot version's pieces. */
struct mb_wording {
    const char *kind;   /* "multiboot2": "truncated multiboot2 kernel" */
    const char *fields; /* "multiboot2 address tag" */
    const char *image;  /* the copy's name in the plan */
};

/* Plans the copy of a kernel that is not ELF from its address fields:
 * the file bytes from load_addr (relative to header_addr) up to
 * load_end_addr or the file's end, zeroed up to bss_end_addr, below limit. */
bool plan_multiboot_address(struct guest_boot_plan *p, const struct guest_image *img,
                            const struct mb_address *a, uint64_t limit, const struct mb_wording *w);

/* Multiboot2 (multiboot2_plan.c): 1 planned, 0 not a multiboot2 image,
 * -1 failed (plan->error set). */
int mb2_plan(struct guest_boot_plan *p, const struct guest_image *img);

/* Multiboot v1 (multiboot1_plan.c): the same convention as mb2_plan. */
int mb1_plan(struct guest_boot_plan *p, const struct guest_image *img);
/* A plain ELF32 already loaded: its entry state and multiboot v1
 * information (EAX, EBX), as a multiboot loader would start it. */
bool mb1_plan_elf32(struct guest_boot_plan *p, const struct guest_image *img, uint64_t entry_phys);

#endif
