/* SPDX-License-Identifier: MIT */
/*
 * The guest's PCI host: configuration mechanism #1 (ports 0xCF8 address,
 * 0xCFC-0xCFF data) and the same configuration space through ECAM (the
 * memory window the guest's MCFG table describes), in front of a small
 * table of PCI functions. Each function brings its own configuration-space
 * handlers, so later devices (virtio-pci) are added with
 * pci_host_add_function() and nothing here changes. Function 00:00.0 is
 * always the host bridge, an Intel 8086:29C0 (the Q35 MCH's IDs), class
 * 06.00.00, header type 0, with no BARs or capabilities. Every address no
 * function claims reads as all ones and ignores writes, as an empty slot
 * does. Not thread-safe: the 0xCF8 latch is shared by all vCPUs, so the
 * caller serializes accesses per guest. Pure code, host-tested.
 */
#ifndef SIDECORE_VMM_DEV_PCI_HOST_H
#define SIDECORE_VMM_DEV_PCI_HOST_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_HOST_PORT_ADDRESS  0xcf8
#define PCI_HOST_PORT_DATA     0xcfc /* .. 0xcff */
#define PCI_HOST_MAX_FUNCTIONS 16
#define PCI_CFG_SPACE_SIZE     4096 /* per function, through ECAM */
#define PCI_ECAM_BUS_SIZE      (1u << 20)

#define PCI_HOST_BRIDGE_VENDOR 0x8086
#define PCI_HOST_BRIDGE_DEVICE 0x29c0

/* A function's configuration-space handlers. offset is 0..4095 and the
 * access (size 1, 2 or 4) never crosses an aligned dword; offsets past 255
 * are only reachable through ECAM. Values are little-endian, in the low
 * size bytes. */
typedef uint32_t (*pci_cfg_read_fn)(void *ctx, unsigned offset, unsigned size);
typedef void (*pci_cfg_write_fn)(void *ctx, unsigned offset, unsigned size, uint32_t value);

struct pci_function {
    uint8_t bus, dev, fn; /* dev 0-31, fn 0-7 */
    pci_cfg_read_fn read;
    pci_cfg_write_fn write;
    void *ctx;
};

/* A 256-byte configuration space held as bytes with a per-byte mask of the
 * writable bits and of the write-one-to-clear bits (status registers): what
 * most emulated functions need for their header. */
struct pci_cfg_regs {
    uint8_t bytes[256];
    uint8_t wmask[256];
    uint8_t w1cmask[256];
};

/* Reads 0 and ignores writes past offset 255 (no extended capabilities). */
uint32_t pci_cfg_regs_read(const struct pci_cfg_regs *r, unsigned offset, unsigned size);
void pci_cfg_regs_write(struct pci_cfg_regs *r, unsigned offset, unsigned size, uint32_t value);
/* Sets a register's initial value (ignoring the masks). */
void pci_cfg_regs_set(struct pci_cfg_regs *r, unsigned offset, unsigned size, uint32_t value);

struct pci_host {
    uint32_t address; /* the 0xCF8 latch */
    unsigned count;
    struct pci_function fns[PCI_HOST_MAX_FUNCTIONS];
    struct pci_cfg_regs bridge; /* 00:00.0 */
};

/* Initializes h in place (the table points into it) with the host bridge. */
void pci_host_init(struct pci_host *h);
/* Adds a function. False (nothing added) when the table is full, the
 * address is taken or out of range, or a handler is missing. A device with
 * functions other than 0 must also add function 0 and set the
 * multi-function bit of its header type, or the guest will not scan past
 * function 0. */
bool pci_host_add_function(struct pci_host *h, const struct pci_function *f);

/* Port access to 0xCF8-0xCFF (size 1, 2 or 4). The address register is
 * only a dword access at 0xCF8; other accesses to 0xCF8-0xCFB read all ones
 * and are ignored (0xCF9 is the reset control register: route it to the
 * reset handler before this). Data accesses that cross the dword, or with
 * the enable bit (31) of the address clear, read all ones and are ignored.
 * Values are in the low size bytes. */
uint32_t pci_host_io_read(struct pci_host *h, uint16_t port, unsigned size);
void pci_host_io_write(struct pci_host *h, uint16_t port, unsigned size, uint32_t value);

/* ECAM access: offset from the window's base (bus << 20 | dev << 15 |
 * fn << 12 | register), size 1, 2, 4 or 8, naturally aligned (an 8-byte
 * access is two dword accesses, low first). Unaligned accesses, other
 * sizes and offsets past bus 255 read all ones and are ignored. */
uint64_t pci_host_ecam_read(struct pci_host *h, uint64_t offset, unsigned size);
void pci_host_ecam_write(struct pci_host *h, uint64_t offset, unsigned size, uint64_t value);

#endif
