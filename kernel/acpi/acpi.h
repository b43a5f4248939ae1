/* SPDX-License-Identifier: MIT */
/*
 * What the hypervisor learns from the firmware's ACPI tables, and the parser
 * that fills it in. The parser walks RSDP -> XSDT (or RSDT) -> MADT, SRAT,
 * MCFG and FADT and records CPUs, IOAPICs, interrupt overrides, PCI ECAM
 * windows, NUMA affinity and the reset register in fixed-size arrays. It never
 * touches memory directly: every byte is reached through a caller-supplied
 * mapping callback, so the same code runs in the kernel (identity map) and in
 * host unit tests (a fake physical memory buffer). Tables come from firmware
 * and are not trusted: each one is length- and checksum-checked, and a bad one
 * is skipped with a note in the error list while the others are still parsed.
 */
#ifndef SIDECORE_ACPI_ACPI_H
#define SIDECORE_ACPI_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#define ACPI_MAX_CPUS      256
#define ACPI_MAX_IOAPICS   16
#define ACPI_MAX_OVERRIDES 24
#define ACPI_MAX_MCFG      8
#define ACPI_MAX_MEM       16
#define ACPI_MAX_TABLES    64
#define ACPI_MAX_ERRORS    8
#define ACPI_ERROR_LEN     72

/*
 * Returns a pointer through which [phys, phys+len) can be read, or NULL if
 * that range cannot be reached (the table is then treated as missing or
 * truncated). The parser reads only within the range it asked for.
 */
typedef const void *(*acpi_map_fn)(uint64_t phys, uint64_t len, void *ctx);

struct acpi_cpu {
    uint32_t apic_id;       /* x2APIC ID (an xAPIC ID zero-extended) */
    uint32_t acpi_uid;      /* processor UID, matches _UID in the namespace */
    bool enabled;           /* usable now */
    bool online_capable;    /* disabled, but may be brought online later */
    bool from_x2apic_entry; /* MADT type 9 rather than type 0 */
    bool has_domain;        /* SRAT gave a proximity domain */
    uint32_t domain;
};

struct acpi_ioapic {
    uint8_t id;
    uint32_t addr;
    uint32_t gsi_base;
};

/* A legacy ISA IRQ routed to a different GSI or with non-default polarity /
 * trigger mode (flags: MPS INTI bits, [1:0] polarity, [3:2] trigger). */
struct acpi_irq_override {
    uint8_t bus;
    uint8_t irq;
    uint32_t gsi;
    uint16_t flags;
};

/* One PCI segment's ECAM window for buses bus_start..bus_end. As the PCI
 * firmware spec defines it, base is where bus 0 would be even when bus_start
 * is not 0: function (b, d, f) is at base + (b << 20 | d << 15 | f << 12). */
struct acpi_mcfg {
    uint64_t base;
    uint16_t segment;
    uint8_t bus_start;
    uint8_t bus_end;
};

struct acpi_mem_affinity {
    uint64_t base;
    uint64_t length;
    uint32_t domain;
    bool enabled;
    bool hotplug;
};

/* ACPI Generic Address Structure. */
struct acpi_gas {
    uint8_t space_id; /* 0 memory, 1 I/O port, 2 PCI config */
    uint8_t bit_width;
    uint8_t bit_offset;
    uint8_t access_size;
    uint64_t address;
};

#define ACPI_GAS_SPACE_MEMORY 0
#define ACPI_GAS_SPACE_IO     1
#define ACPI_GAS_SPACE_PCI    2

/* IA-PC boot architecture flags (FADT). */
#define ACPI_BOOT_ARCH_LEGACY_DEVICES (1u << 0)
#define ACPI_BOOT_ARCH_8042           (1u << 1)
#define ACPI_BOOT_ARCH_NO_VGA         (1u << 2)
#define ACPI_BOOT_ARCH_NO_MSI         (1u << 3)
#define ACPI_BOOT_ARCH_NO_ASPM        (1u << 4)
#define ACPI_BOOT_ARCH_NO_CMOS_RTC    (1u << 5)

struct acpi_fadt_info {
    bool present;
    bool reset_supported; /* FADT flags RESET_REG_SUP */
    bool has_reset_reg;   /* the table is long enough to hold the field */
    struct acpi_gas reset_reg;
    uint8_t reset_value;
    uint16_t boot_arch; /* ACPI_BOOT_ARCH_* */
    uint8_t century;    /* CMOS index of the century, 0 if none */
};

/* A table the root table points at, as found (valid or not). */
struct acpi_table_ref {
    char signature[5];
    uint8_t revision;
    bool valid; /* mapped, length sane, checksum good */
    uint64_t phys;
    uint32_t length;
};

struct acpi_info {
    /* RSDP */
    uint64_t rsdp_phys;
    char oem_id[7];
    uint8_t revision; /* RSDP revision: 0 = ACPI 1.0 (RSDT only), 2 = 2.0+ */
    bool root_is_xsdt;
    uint64_t root_phys;

    uint32_t table_count;
    struct acpi_table_ref tables[ACPI_MAX_TABLES];

    /* MADT */
    bool have_madt;
    uint64_t lapic_addr;
    bool pcat_compat; /* dual 8259s present: mask them before using the APIC */
    uint32_t cpu_count;
    uint32_t cpus_dropped; /* beyond ACPI_MAX_CPUS */
    struct acpi_cpu cpus[ACPI_MAX_CPUS];
    uint32_t ioapic_count;
    struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
    uint32_t override_count;
    struct acpi_irq_override overrides[ACPI_MAX_OVERRIDES];

    /* MCFG */
    uint32_t mcfg_count;
    struct acpi_mcfg mcfg[ACPI_MAX_MCFG];

    /* SRAT */
    bool have_srat;
    uint32_t mem_count;
    struct acpi_mem_affinity mem[ACPI_MAX_MEM];

    /* FADT */
    struct acpi_fadt_info fadt;

    /* What was skipped and why; the last entry is the reason when
     * acpi_parse() returns false. */
    uint32_t error_count;
    uint32_t errors_dropped;
    char errors[ACPI_MAX_ERRORS][ACPI_ERROR_LEN];
};

/*
 * Parses the tables reachable from the RSDP at rsdp_phys. Returns false only
 * when nothing can be found (bad RSDP, no usable root table); a bad MADT, SRAT
 * etc. is skipped and noted in out->errors. out is fully overwritten.
 */
bool acpi_parse(uint64_t rsdp_phys, acpi_map_fn map, void *ctx, struct acpi_info *out);

/*
 * Searches the places a legacy BIOS leaves the RSDP: the first KiB of the
 * EBDA (segment at 0x40E) and 0xE0000-0xFFFFF, on 16-byte boundaries.
 * Returns its physical address, or 0 if no RSDP with a valid checksum is
 * there.
 */
uint64_t acpi_find_rsdp(acpi_map_fn map, void *ctx);

/* Number of CPUs that are enabled now. */
uint32_t acpi_enabled_cpu_count(const struct acpi_info *info);

/* The CPU entry for an APIC ID, or NULL. */
const struct acpi_cpu *acpi_find_cpu(const struct acpi_info *info, uint32_t apic_id);

/* Kernel side (kernel/acpi/acpi_init.c). */
struct handoff;
/* Finds and parses the tables (h->rsdp, else a BIOS area search) and logs
 * what was found. Does not stop the boot when there are no tables. */
void acpi_init(const struct handoff *h);
/* The result of acpi_init(); all counts are zero if it found no tables. */
const struct acpi_info *acpi_info(void);

#endif
