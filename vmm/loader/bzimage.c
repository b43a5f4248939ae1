/* SPDX-License-Identifier: MIT */
/*
 * bzimage_parse: the checks a loader must make before it trusts a bzImage's
 * setup header. Each refusal names what is wrong with the numbers, so a
 * truncated download, a 32-bit kernel or a file that is not a kernel at all
 * can be told apart from the console message alone.
 */
#include "vmm/loader/bzimage.h"

#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"

static uint16_t get16(const uint8_t *b)
{
    return (uint16_t)(b[0] | b[1] << 8);
}

static uint32_t get32(const uint8_t *b)
{
    return (uint32_t)get16(b) | (uint32_t)get16(b + 2) << 16;
}

static uint64_t get64(const uint8_t *b)
{
    return (uint64_t)get32(b) | (uint64_t)get32(b + 4) << 32;
}

static bool refuse(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool refuse(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && err_size)
        fmt_vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
    return false;
}

bool bzimage_has_magic(const uint8_t *data, uint64_t size)
{
    return data && size >= BZ_HEADER_MAGIC + 4 && memcmp(data + BZ_HEADER_MAGIC, "HdrS", 4) == 0;
}

static bool is_pow2(uint32_t v)
{
    return v && !(v & (v - 1));
}

bool bzimage_parse(const uint8_t *f, uint64_t size, struct bzimage_header *h, char *err,
                   size_t err_size)
{
    memset(h, 0, sizeof(*h));
    if (!f || size < BZ_HDR_MIN_END + 4)
        return refuse(err, err_size,
                      "truncated bzImage: %llu bytes, shorter than its setup header (0x%x bytes)",
                      (unsigned long long)size, BZ_HDR_MIN_END + 4);
    if (!bzimage_has_magic(f, size))
        return refuse(err, err_size,
                      "not a bzImage: no setup header magic \"HdrS\" at 0x202 (found %02x %02x "
                      "%02x %02x)",
                      f[BZ_HEADER_MAGIC], f[BZ_HEADER_MAGIC + 1], f[BZ_HEADER_MAGIC + 2],
                      f[BZ_HEADER_MAGIC + 3]);
    if (get16(f + BZ_BOOT_FLAG) != BZ_BOOT_FLAG_VALUE)
        return refuse(err, err_size, "corrupt bzImage: boot flag at 0x1fe is 0x%04x, not 0xaa55",
                      get16(f + BZ_BOOT_FLAG));
    h->version = get16(f + BZ_VERSION);
    if (h->version < BZ_MIN_VERSION)
        return refuse(err, err_size,
                      "kernel boot protocol %u.%02u is too old: the 64-bit entry needs 2.12 or "
                      "later",
                      h->version >> 8, h->version & 0xff);
    h->xloadflags = get16(f + BZ_XLOADFLAGS);
    if (!(h->xloadflags & BZ_XLF_KERNEL_64))
        return refuse(err, err_size,
                      "kernel has no 64-bit entry point (xloadflags 0x%x lacks XLF_KERNEL_64): "
                      "a 32-bit kernel cannot be started",
                      h->xloadflags);
    unsigned end = BZ_HEADER_MAGIC + f[BZ_JUMP + 1];
    if (end < BZ_HDR_MIN_END)
        return refuse(err, err_size,
                      "corrupt bzImage: its setup header ends at 0x%x, before the fields of "
                      "protocol %u.%02u",
                      end, h->version >> 8, h->version & 0xff);
    h->header_end = (uint16_t)(end < BZ_HDR_MAX_END ? end : BZ_HDR_MAX_END);

    h->setup_sects = f[BZ_SETUP_SECTS];
    h->setup_size = ((uint64_t)(h->setup_sects ? h->setup_sects : 4) + 1) * BZ_SECTOR;
    h->kernel_size = (uint64_t)get32(f + BZ_SYSSIZE) * 16;
    if (h->kernel_size == 0)
        return refuse(err, err_size, "corrupt bzImage: syssize is 0 (no protected-mode kernel)");
    if (h->setup_size > size || h->kernel_size > size - h->setup_size)
        return refuse(err, err_size,
                      "truncated bzImage: %llu bytes, but its header declares 0x%llx bytes of "
                      "setup and 0x%llx bytes of kernel (0x%llx in all)",
                      (unsigned long long)size, (unsigned long long)h->setup_size,
                      (unsigned long long)h->kernel_size,
                      (unsigned long long)(h->setup_size + h->kernel_size));

    h->loadflags = f[BZ_LOADFLAGS];
    h->initrd_addr_max = get32(f + BZ_INITRD_ADDR_MAX);
    h->kernel_alignment = get32(f + BZ_KERNEL_ALIGNMENT);
    h->relocatable = f[BZ_RELOCATABLE_KERNEL] != 0;
    h->cmdline_size = get32(f + BZ_CMDLINE_SIZE);
    h->pref_address = get64(f + BZ_PREF_ADDRESS);
    h->init_size = get32(f + BZ_INIT_SIZE);
    if (h->init_size < h->kernel_size)
        return refuse(err, err_size,
                      "corrupt bzImage: init_size 0x%x is smaller than the 0x%llx bytes of "
                      "kernel it must hold",
                      h->init_size, (unsigned long long)h->kernel_size);
    if (h->relocatable && (!is_pow2(h->kernel_alignment) || h->kernel_alignment < 0x1000 ||
                           h->kernel_alignment > (1u << 30)))
        return refuse(err, err_size,
                      "corrupt bzImage: kernel_alignment 0x%x is not a power of two between "
                      "4 KiB and 1 GiB",
                      h->kernel_alignment);
    if (h->pref_address & 0xfff)
        return refuse(err, err_size, "corrupt bzImage: pref_address 0x%llx is not page aligned",
                      (unsigned long long)h->pref_address);
    return true;
}
