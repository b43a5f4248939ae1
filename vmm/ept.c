/* SPDX-License-Identifier: MIT */
/*
 * The second-level table builder (see ept.h). Tables are walked by level:
 * 3 = PML4, 2 = PDPT (1 GiB leaves), 1 = PD (2 MiB leaves), 0 = PT (4 KiB
 * leaves). Every change first checks (overlap) or prepares (splits, which
 * keep the translation) everything it needs, so a failure leaves the
 * guest's view of memory exactly as it was. The two formats differ only in
 * how an entry says "present", its rights and its memory type; the few
 * functions that encode and decode entries know both.
 */
#include "vmm/ept.h"

#include "kernel/lib/string.h"

#define ENTRIES    512
#define E_PERMS    0x7ull
#define E_MT_SHIFT 3
#define E_MT_MASK  (0x7ull << E_MT_SHIFT)
#define E_IPAT     (1ull << 6)
#define E_LARGE    (1ull << 7)
#define E_ADDR     0x000ffffffffff000ull
/* What a leaf passes on to the smaller leaves it is split into. */
#define E_LEAF_ATTR (E_PERMS | E_MT_MASK | E_IPAT)

/* NPT entries: x86-64 page-table entries. The guest's accesses are user
 * accesses to the nested walk, so US is set everywhere. The hardware takes
 * the memory type from PWT/PCD (through the host's PAT, left at its reset
 * value: 0 WB, 1 WT, 2 UC-, 3 UC); the EPT_MT_* asked for is kept in the
 * software-available bits 11:9 so lookups report it. */
#define N_P         (1ull << 0)
#define N_RW        (1ull << 1)
#define N_US        (1ull << 2)
#define N_PWT       (1ull << 3)
#define N_PCD       (1ull << 4)
#define N_MT_SHIFT  9
#define N_MT_MASK   (0x7ull << N_MT_SHIFT)
#define N_NX        (1ull << 63)
#define N_LEAF_ATTR (N_P | N_RW | N_US | N_PWT | N_PCD | N_MT_MASK | N_NX)

static bool is_npt(const struct ept *ept)
{
    return ept->flags & EPT_FORMAT_NPT;
}

static unsigned level_shift(int level)
{
    return 12 + 9 * (unsigned)level;
}

static uint64_t level_size(int level)
{
    return 1ull << level_shift(level);
}

static unsigned level_index(uint64_t gpa, int level)
{
    return (unsigned)(gpa >> level_shift(level)) & (ENTRIES - 1);
}

static bool present(const struct ept *ept, uint64_t e)
{
    return is_npt(ept) ? (e & N_P) != 0 : (e & E_PERMS) != 0;
}

/* A non-leaf entry pointing at the table at hpa. Rights are ANDed down the
 * walk: the leaf decides. */
static uint64_t table_entry(const struct ept *ept, uint64_t hpa)
{
    return hpa | (is_npt(ept) ? N_P | N_RW | N_US : E_PERMS);
}

/* Everything in a leaf but its address and the large-page bit. */
static uint64_t leaf_attr(const struct ept *ept, unsigned perms, unsigned memtype)
{
    if (!is_npt(ept)) {
        /* Guest PAT still applies to write-back RAM (IPAT clear), but MMIO
         * stays uncacheable whatever the guest's PAT says (IPAT set). */
        uint64_t attr = perms | ((uint64_t)memtype << E_MT_SHIFT);
        return memtype == EPT_MT_UC ? attr | E_IPAT : attr;
    }
    uint64_t attr = N_P | N_US | ((uint64_t)memtype << N_MT_SHIFT);
    if (perms & EPT_W)
        attr |= N_RW;
    if (!(perms & EPT_X))
        attr |= N_NX;
    if (memtype == EPT_MT_WT)
        attr |= N_PWT;
    else if (memtype != EPT_MT_WB)
        attr |= N_PCD | N_PWT; /* UC; WC and WP are made UC, never more cacheable */
    return attr;
}

static bool is_leaf(uint64_t e, int level)
{
    return level == 0 || (e & E_LARGE);
}

static uint64_t *table_at(const struct ept *ept, uint64_t hpa)
{
    return ept->ops.phys_to_ptr(ept->ops.ctx, hpa);
}

static uint64_t table_new(struct ept *ept)
{
    uint64_t hpa = ept->ops.alloc_page(ept->ops.ctx);
    if (!hpa || (hpa & 0xfff) || hpa >= EPT_HPA_LIMIT)
        return 0;
    memset(table_at(ept, hpa), 0, 4096);
    ept->tables++;
    return hpa;
}

static void table_free(struct ept *ept, uint64_t hpa)
{
    ept->tables--;
    if (ept->ops.free_page)
        ept->ops.free_page(ept->ops.ctx, hpa);
}

static void subtree_free(struct ept *ept, uint64_t hpa, int level)
{
    uint64_t *t = table_at(ept, hpa);
    if (level > 0) {
        for (unsigned i = 0; i < ENTRIES; i++) {
            if (present(ept, t[i]) && !is_leaf(t[i], level))
                subtree_free(ept, t[i] & E_ADDR, level - 1);
        }
    }
    table_free(ept, hpa);
}

enum ept_status ept_init(struct ept *ept, const struct ept_ops *ops, unsigned flags)
{
    ept->ops = *ops;
    ept->flags = flags;
    ept->tables = 0;
    ept->pml4 = table_new(ept);
    return ept->pml4 ? EPT_OK : EPT_E_NOMEM;
}

/* Whether any leaf lies in [start, end) of the table at hpa, which covers
 * ENTRIES entries of level_size(level) from base. */
static bool range_mapped(const struct ept *ept, uint64_t hpa, int level, uint64_t base,
                         uint64_t start, uint64_t end)
{
    const uint64_t *t = table_at(ept, hpa);
    uint64_t sz = level_size(level);
    unsigned first = (unsigned)((start - base) / sz);
    unsigned last = (unsigned)((end - 1 - base) / sz);
    for (unsigned i = first; i <= last; i++) {
        if (!present(ept, t[i]))
            continue;
        if (is_leaf(t[i], level))
            return true;
        uint64_t eb = base + i * sz;
        uint64_t s = start > eb ? start : eb;
        uint64_t e = end < eb + sz ? end : eb + sz;
        if (range_mapped(ept, t[i] & E_ADDR, level - 1, eb, s, e))
            return true;
    }
    return false;
}

/* Installs one leaf at `level`, creating tables on the way down. The range
 * is known to be unmapped, so nothing on the way is a leaf. */
static enum ept_status leaf_set(struct ept *ept, uint64_t gpa, int level, uint64_t leaf)
{
    uint64_t *t = table_at(ept, ept->pml4);
    for (int l = 3; l > level; l--) {
        uint64_t *e = &t[level_index(gpa, l)];
        if (!present(ept, *e)) {
            uint64_t next = table_new(ept);
            if (!next)
                return EPT_E_NOMEM;
            *e = table_entry(ept, next);
        }
        t = table_at(ept, *e & E_ADDR);
    }
    t[level_index(gpa, level)] = leaf;
    return EPT_OK;
}

static bool valid_memtype(unsigned mt)
{
    return mt == EPT_MT_UC || mt == EPT_MT_WC || mt == EPT_MT_WT || mt == EPT_MT_WP ||
           mt == EPT_MT_WB;
}

static enum ept_status check_range(uint64_t gpa, uint64_t size)
{
    if ((gpa | size) & 0xfff || size == 0)
        return EPT_E_ALIGN;
    if (gpa >= EPT_GPA_LIMIT || size > EPT_GPA_LIMIT - gpa)
        return EPT_E_RANGE;
    return EPT_OK;
}

static bool fits(uint64_t gpa, uint64_t hpa, uint64_t left, uint64_t page)
{
    return left >= page && !(gpa & (page - 1)) && !(hpa & (page - 1));
}

enum ept_status ept_map(struct ept *ept, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned perms,
                        unsigned memtype)
{
    enum ept_status s = check_range(gpa, size);
    if (s != EPT_OK)
        return s;
    if (hpa & 0xfff)
        return EPT_E_ALIGN;
    if (hpa >= EPT_HPA_LIMIT || size > EPT_HPA_LIMIT - hpa)
        return EPT_E_RANGE;
    if ((perms & ~EPT_RWX) || !(perms & EPT_RWX) || ((perms & EPT_W) && !(perms & EPT_R)))
        return EPT_E_PERMS;
    if (is_npt(ept) && !(perms & EPT_R))
        return EPT_E_PERMS; /* NPT cannot say execute-only */
    if (!valid_memtype(memtype))
        return EPT_E_MEMTYPE;
    if (range_mapped(ept, ept->pml4, 3, 0, gpa, gpa + size))
        return EPT_E_OVERLAP;

    uint64_t attr = leaf_attr(ept, perms, memtype);

    uint64_t done = 0;
    while (done < size) {
        uint64_t g = gpa + done, h = hpa + done, left = size - done;
        int level = 0;
        if ((ept->flags & EPT_ALLOW_1G) && fits(g, h, left, EPT_PAGE_1G))
            level = 2;
        else if ((ept->flags & EPT_ALLOW_2M) && fits(g, h, left, EPT_PAGE_2M))
            level = 1;
        uint64_t leaf = h | attr | (level ? E_LARGE : 0);
        if (leaf_set(ept, g, level, leaf) != EPT_OK) {
            if (done)
                ept_unmap(ept, gpa, done); /* exactly our own leaves: no split */
            return EPT_E_NOMEM;
        }
        done += level_size(level);
    }
    return EPT_OK;
}

/* Replaces the large leaf *e at `level` by a table of 512 leaves one level
 * down that translate the same way. */
static enum ept_status leaf_split(struct ept *ept, uint64_t *e, int level)
{
    uint64_t next = table_new(ept);
    if (!next)
        return EPT_E_NOMEM;
    uint64_t *t = table_at(ept, next);
    uint64_t attr = *e & (is_npt(ept) ? N_LEAF_ATTR : E_LEAF_ATTR);
    uint64_t base = *e & E_ADDR, child = level_size(level - 1);
    for (unsigned i = 0; i < ENTRIES; i++)
        t[i] = (base + i * child) | attr | (level - 1 > 0 ? E_LARGE : 0);
    *e = table_entry(ept, next);
    return EPT_OK;
}

/* Makes addr a boundary no leaf straddles, splitting large leaves. */
static enum ept_status split_at(struct ept *ept, uint64_t addr)
{
    uint64_t *t = table_at(ept, ept->pml4);
    for (int l = 3; l > 0; l--) {
        if (!(addr & (level_size(l) - 1)))
            return EPT_OK;
        uint64_t *e = &t[level_index(addr, l)];
        if (!present(ept, *e))
            return EPT_OK;
        if (*e & E_LARGE) {
            enum ept_status s = leaf_split(ept, e, l);
            if (s != EPT_OK)
                return s;
        }
        t = table_at(ept, *e & E_ADDR);
    }
    return EPT_OK;
}

/* Clears [start, end) in the table at hpa; no leaf straddles either end. */
static void range_clear(struct ept *ept, uint64_t hpa, int level, uint64_t base, uint64_t start,
                        uint64_t end)
{
    uint64_t *t = table_at(ept, hpa);
    uint64_t sz = level_size(level);
    unsigned first = (unsigned)((start - base) / sz);
    unsigned last = (unsigned)((end - 1 - base) / sz);
    for (unsigned i = first; i <= last; i++) {
        if (!present(ept, t[i]))
            continue;
        uint64_t eb = base + i * sz;
        bool whole = start <= eb && end >= eb + sz;
        if (whole) {
            if (!is_leaf(t[i], level))
                subtree_free(ept, t[i] & E_ADDR, level - 1);
            t[i] = 0;
        } else if (!is_leaf(t[i], level)) {
            uint64_t s = start > eb ? start : eb;
            uint64_t e = end < eb + sz ? end : eb + sz;
            range_clear(ept, t[i] & E_ADDR, level - 1, eb, s, e);
        }
    }
}

enum ept_status ept_unmap(struct ept *ept, uint64_t gpa, uint64_t size)
{
    enum ept_status s = check_range(gpa, size);
    if (s != EPT_OK)
        return s;
    s = split_at(ept, gpa);
    if (s == EPT_OK && gpa + size < EPT_GPA_LIMIT)
        s = split_at(ept, gpa + size);
    if (s != EPT_OK)
        return s;
    range_clear(ept, ept->pml4, 3, 0, gpa, gpa + size);
    return EPT_OK;
}

static void mapping_from_leaf(const struct ept *ept, uint64_t e, int level, uint64_t gpa,
                              struct ept_mapping *m)
{
    uint64_t sz = level_size(level);
    m->hpa = (e & E_ADDR & ~(sz - 1)) | (gpa & (sz - 1));
    m->page_size = sz;
    if (is_npt(ept)) {
        m->perms = EPT_R | (e & N_RW ? EPT_W : 0) | (e & N_NX ? 0 : EPT_X);
        m->memtype = (unsigned)((e & N_MT_MASK) >> N_MT_SHIFT);
        return;
    }
    m->perms = (unsigned)(e & E_PERMS);
    m->memtype = (unsigned)((e & E_MT_MASK) >> E_MT_SHIFT);
}

bool ept_lookup(const struct ept *ept, uint64_t gpa, struct ept_mapping *out)
{
    if (gpa >= EPT_GPA_LIMIT)
        return false;
    const uint64_t *t = table_at(ept, ept->pml4);
    for (int l = 3; l >= 0; l--) {
        uint64_t e = t[level_index(gpa, l)];
        if (!present(ept, e))
            return false;
        if (is_leaf(e, l)) {
            mapping_from_leaf(ept, e, l, gpa, out);
            return true;
        }
        t = table_at(ept, e & E_ADDR);
    }
    return false;
}

static bool leaves_visit(const struct ept *ept, uint64_t hpa, int level, uint64_t base,
                         ept_leaf_fn fn, void *ctx)
{
    const uint64_t *t = table_at(ept, hpa);
    for (unsigned i = 0; i < ENTRIES; i++) {
        if (!present(ept, t[i]))
            continue;
        uint64_t eb = base + i * level_size(level);
        if (is_leaf(t[i], level)) {
            struct ept_mapping m;
            mapping_from_leaf(ept, t[i], level, eb, &m);
            if (!fn(ctx, eb, &m))
                return false;
        } else if (!leaves_visit(ept, t[i] & E_ADDR, level - 1, eb, fn, ctx)) {
            return false;
        }
    }
    return true;
}

void ept_for_each_leaf(const struct ept *ept, ept_leaf_fn fn, void *ctx)
{
    leaves_visit(ept, ept->pml4, 3, 0, fn, ctx);
}

uint64_t ept_eptp(const struct ept *ept, bool ad_bits)
{
    return (ept->pml4 & E_ADDR) | EPT_MT_WB | ((4 - 1) << 3) | (ad_bits ? 1ull << 6 : 0);
}

uint64_t ept_npt_root(const struct ept *ept)
{
    return ept->pml4 & E_ADDR;
}

void ept_destroy(struct ept *ept)
{
    if (ept->pml4)
        subtree_free(ept, ept->pml4, 3);
    ept->pml4 = 0;
}

const char *ept_status_name(enum ept_status s)
{
    switch (s) {
    case EPT_OK: return "ok";
    case EPT_E_ALIGN: return "address or size not 4 KiB aligned";
    case EPT_E_RANGE: return "address out of range";
    case EPT_E_OVERLAP: return "overlaps an existing mapping";
    case EPT_E_PERMS: return "invalid access rights";
    case EPT_E_MEMTYPE: return "invalid memory type";
    case EPT_E_NOMEM: return "out of table pages";
    }
    return "unknown";
}
