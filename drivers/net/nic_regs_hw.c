/* SPDX-License-Identifier: MIT */
/*
 * The NIC drivers' register accessor on the machine: 32-bit uncached MMIO
 * on BAR0, delays on the TSC clock, and descriptor memory from the page
 * allocator (identity mapped, so a pointer is its device address). The host
 * tests replace all three with a register-level model.
 */
#include "drivers/net/nic_dev.h"
#include "kernel/mm/pmm.h"
#include "kernel/time/clock.h"
#include "kernel/x86/cpu.h"

static uint32_t mmio_read(void *ctx, uint32_t off)
{
    return *(const volatile uint32_t *)((uint8_t *)ctx + off);
}

static void mmio_write(void *ctx, uint32_t off, uint32_t val)
{
    *(volatile uint32_t *)((uint8_t *)ctx + off) = val;
}

static void clock_delay_us(void *ctx, unsigned us)
{
    uint64_t end = clock_uptime_ns() + (uint64_t)us * 1000;

    while (clock_uptime_ns() < end)
        cpu_relax();
}

struct nic_regs nic_regs_mmio(volatile void *bar0)
{
    return (struct nic_regs){
        .read = mmio_read, .write = mmio_write, .delay_us = clock_delay_us, .ctx = (void *)bar0};
}

void *nic_dma_alloc(size_t bytes, size_t align)
{
    /* Whole zeroed pages: nothing else shares a ring's cache lines. */
    size_t pages = (bytes + 4095) / 4096;

    if (align > 4096)
        return NULL;
    return (void *)(uintptr_t)pmm_alloc_pages(pages);
}
