/* SPDX-License-Identifier: MIT */
/*
 * Turns decoded PCI functions into text: short class names (from the PCI
 * Code and ID Assignment specification), capability names, the one-line boot
 * summary and the rows of the shell's `pci` table. Kept apart from the
 * console so the exact formats can be unit-tested on the host.
 */
#include "kernel/pci/pci_describe.h"

#include <stdarg.h>
#include <stdbool.h>

#include "kernel/lib/fmt.h"
#include "kernel/lib/str.h"

struct class_name {
    uint8_t class_code, subclass;
    int16_t prog_if; /* -1: any */
    const char *name;
};

/* Most specific first: an entry with a prog-if wins over one without. */
static const struct class_name class_names[] = {
    {0x00, 0x01, -1, "VGA (old)"},  {0x01, 0x00, -1, "SCSI"},       {0x01, 0x01, -1, "IDE"},
    {0x01, 0x02, -1, "floppy"},     {0x01, 0x04, -1, "RAID"},       {0x01, 0x05, -1, "ATA"},
    {0x01, 0x06, -1, "SATA"},       {0x01, 0x07, -1, "SAS"},        {0x01, 0x08, 0x02, "NVMe"},
    {0x01, 0x08, -1, "NVM"},        {0x01, 0x80, -1, "storage"},    {0x02, 0x00, -1, "Ethernet"},
    {0x02, 0x80, -1, "network"},    {0x03, 0x00, 0x00, "VGA"},      {0x03, 0x00, -1, "display"},
    {0x03, 0x02, -1, "3D"},         {0x03, 0x80, -1, "display"},    {0x04, 0x01, -1, "audio"},
    {0x04, 0x03, -1, "HD audio"},   {0x05, 0x00, -1, "RAM"},        {0x06, 0x00, -1, "host bridge"},
    {0x06, 0x01, -1, "ISA bridge"}, {0x06, 0x04, -1, "PCI bridge"}, {0x06, 0x80, -1, "bridge"},
    {0x07, 0x00, -1, "serial"},     {0x08, 0x00, -1, "PIC"},        {0x08, 0x05, -1, "SD host"},
    {0x08, 0x06, -1, "IOMMU"},      {0x0c, 0x03, 0x00, "USB UHCI"}, {0x0c, 0x03, 0x10, "USB OHCI"},
    {0x0c, 0x03, 0x20, "USB EHCI"}, {0x0c, 0x03, 0x30, "USB xHCI"}, {0x0c, 0x03, -1, "USB"},
    {0x0c, 0x05, -1, "SMBus"},
};

static const char *const class_fallback[] = {
    [0x00] = "unclassified", [0x01] = "storage",     [0x02] = "network",     [0x03] = "display",
    [0x04] = "multimedia",   [0x05] = "memory",      [0x06] = "bridge",      [0x07] = "comms",
    [0x08] = "system",       [0x09] = "input",       [0x0a] = "docking",     [0x0b] = "processor",
    [0x0c] = "serial bus",   [0x0d] = "wireless",    [0x0e] = "I2O",         [0x0f] = "satellite",
    [0x10] = "crypto",       [0x11] = "signal proc", [0x12] = "accelerator", [0x13] = "instrument",
};

const char *pci_class_name(uint8_t class_code, uint8_t subclass, uint8_t prog_if)
{
    for (size_t i = 0; i < sizeof(class_names) / sizeof(class_names[0]); i++) {
        const struct class_name *c = &class_names[i];

        if (c->class_code == class_code && c->subclass == subclass &&
            (c->prog_if < 0 || c->prog_if == prog_if))
            return c->name;
    }
    if (class_code < sizeof(class_fallback) / sizeof(class_fallback[0]))
        return class_fallback[class_code];
    return "unknown";
}

const char *pci_cap_name(uint8_t id)
{
    switch (id) {
    case 0x01: return "PM";
    case 0x02: return "AGP";
    case 0x03: return "VPD";
    case 0x04: return "slot-id";
    case 0x05: return "MSI";
    case 0x06: return "hot-swap";
    case 0x07: return "PCI-X";
    case 0x08: return "HT";
    case 0x09: return "vendor";
    case 0x0a: return "debug";
    case 0x0c: return "hotplug";
    case 0x0d: return "subsys-id";
    case 0x10: return "PCIe";
    case 0x11: return "MSI-X";
    case 0x12: return "SATA";
    case 0x13: return "AF";
    case 0x14: return "EA";
    default: return "cap";
    }
}

/* An append-only view of a caller's buffer; output past the end is cut. */
struct text {
    char *buf;
    size_t size, len;
};

static __attribute__((format(printf, 2, 3))) void text_add(struct text *t, const char *fmt, ...)
{
    va_list ap;

    if (t->len + 1 >= t->size)
        return;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    t->len += (size_t)n;
    if (t->len >= t->size)
        t->len = t->size - 1;
}

static struct text text_start(char *buf, size_t size)
{
    struct text t = {buf, size, 0};

    if (size)
        buf[0] = '\0';
    return t;
}

/* "bar0 fd000000 16M 64b pref" or, for I/O, "bar4 io c000 32B". */
static void text_add_bar(struct text *t, unsigned index, const struct pci_bar *bar)
{
    char size[16];

    str_format_size(size, sizeof(size), bar->size);
    if (bar->is_io) {
        text_add(t, "bar%u io %lx %s", index, (unsigned long)bar->base, size);
        return;
    }
    text_add(t, "bar%u %lx %s%s%s", index, (unsigned long)bar->base, size,
             bar->is_64bit ? " 64b" : "", bar->prefetchable ? " pref" : "");
}

const char *pci_table_header(void)
{
    return "BDF           ID         CLASS     TYPE          MEMORY BARS";
}

void pci_format_row(char *buf, size_t size, const struct pci_device *d)
{
    struct text t = text_start(buf, size);
    bool any = false;

    text_add(&t, "%04x:%02x:%02x.%x  %04x:%04x  %02x.%02x.%02x  %-12s ", d->segment, d->bus, d->dev,
             d->func, d->vendor_id, d->device_id, d->class_code, d->subclass, d->prog_if,
             pci_class_name(d->class_code, d->subclass, d->prog_if));
    for (unsigned i = 0; i < 6; i++) {
        if (!d->bar[i].size || d->bar[i].is_io)
            continue;
        text_add(&t, "%s", any ? ", " : " ");
        text_add_bar(&t, i, &d->bar[i]);
        any = true;
    }
    if (!any)
        text_add(&t, " -");
}

#define DETAIL_INDENT "              "

void pci_format_details(char *buf, size_t size, const struct pci_device *d)
{
    struct text t = text_start(buf, size);
    bool any = false;

    for (unsigned i = 0; i < 6; i++) {
        if (!d->bar[i].size || !d->bar[i].is_io)
            continue;
        text_add(&t, "%s", any ? ", " : DETAIL_INDENT);
        text_add_bar(&t, i, &d->bar[i]);
        any = true;
    }
    if (any)
        text_add(&t, "\n");
    if ((d->header_type & 0x7f) == 1)
        text_add(&t, DETAIL_INDENT "bridge to buses %02x-%02x\n", d->secondary_bus,
                 d->subordinate_bus);
    if (d->cap_count || d->cap_list_bad) {
        text_add(&t, DETAIL_INDENT "caps:");
        for (unsigned i = 0; i < d->cap_count; i++) {
            text_add(&t, " %s@%02x", pci_cap_name(d->cap[i].id), d->cap[i].offset);
            if (d->cap[i].id == 0x11 && d->cap[i].offset == d->cap_msix)
                text_add(&t, "(%u vector%s)", d->msix_table_size,
                         d->msix_table_size == 1 ? "" : "s");
        }
        if (d->cap_list_bad)
            text_add(&t, " (list broken: loop or bad pointer)");
        text_add(&t, "\n");
    }
}

void pci_format_log_line(char *buf, size_t size, const struct pci_device *d)
{
    struct text t = text_start(buf, size);

    text_add(&t, "PCI ");
    if (d->segment)
        text_add(&t, "%04x:", d->segment);
    text_add(&t, "%02x:%02x.%x %04x:%04x class %02x.%02x.%02x rev %02x %s", d->bus, d->dev, d->func,
             d->vendor_id, d->device_id, d->class_code, d->subclass, d->prog_if, d->revision,
             pci_class_name(d->class_code, d->subclass, d->prog_if));
    for (unsigned i = 0; i < 6; i++) {
        if (!d->bar[i].size)
            continue;
        text_add(&t, " ");
        text_add_bar(&t, i, &d->bar[i]);
    }
    if ((d->header_type & 0x7f) == 1)
        text_add(&t, " buses %02x-%02x", d->secondary_bus, d->subordinate_bus);
    if (d->cap_msi)
        text_add(&t, " msi");
    if (d->cap_msix)
        text_add(&t, " msix(%u)", d->msix_table_size);
    if (d->cap_pcie)
        text_add(&t, " pcie");
    if (d->cap_list_bad)
        text_add(&t, " caps-broken");
}
