/* SPDX-License-Identifier: MIT */
/*
 * The virtio-pci modern transport behind virtio/virtio_pci.h: the PCI
 * header and capability list (held in a struct pci_cfg_regs, so BAR sizing
 * and read-only bytes behave like hardware through per-byte write masks),
 * the common configuration structure, ISR, notification and device
 * configuration regions of BAR 0, and MSI-X.
 *
 * Every register window is decoded field by field with byte granularity:
 * an access of any size at any offset reads the bytes of the fields it
 * covers and writes a field by merging its bytes into the field's current
 * value, so two 32-bit halves, one 64-bit access and odd accesses all go
 * through the same setter and nothing can index out of a table.
 *
 * MSI-X masking without a lock. The signaller (any CPU) sets the vector's
 * pending bit, fences, then looks at the masks; the vCPU that unmasks
 * (vector control, function mask, MSI-X enable) stores the mask, fences,
 * then looks at the pending bits. With both fences at least one side sees
 * the other's store, and whichever delivers first takes the pending bit
 * with an atomic test-and-clear, so an interrupt is never lost and never
 * sent twice.
 */
#include "virtio/virtio_pci.h"

#include <stddef.h>

/* Configuration-space header. */
#define CFG_VENDOR        0x00
#define CFG_DEVICE        0x02
#define CFG_COMMAND       0x04
#define CFG_STATUS        0x06
#define CFG_REVISION      0x08
#define CFG_CLASS         0x09
#define CFG_CACHELINE     0x0c
#define CFG_LATENCY       0x0d
#define CFG_HEADER        0x0e
#define CFG_BAR0          0x10
#define CFG_BAR1          0x14
#define CFG_SUBSYS_VENDOR 0x2c
#define CFG_SUBSYS_ID     0x2e
#define CFG_CAP_PTR       0x34
#define CFG_INT_LINE      0x3c
#define CFG_INT_PIN       0x3d

#define CMD_MEMORY       0x0002
#define CMD_BUS_MASTER   0x0004
#define CMD_INTX_DISABLE 0x0400
#define STATUS_CAP_LIST  0x0010
#define BAR_MEM64        0x4 /* memory space, 64-bit, not prefetchable */
#define BAR_ADDR_MASK    (~(uint64_t)(VIRTIO_PCI_BAR_SIZE - 1))

/* The capability list, at fixed places (all dword aligned). */
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11
#define CAP_MSIX        0x40 /* 12 bytes */
#define CAP_COMMON      0x4c /* 16 */
#define CAP_NOTIFY      0x5c /* 20 */
#define CAP_ISR         0x70 /* 16 */
#define CAP_PCI_CFG     0x80 /* 20 */
#define CAP_DEVICE      0x94 /* 16, only with a device configuration */

/* struct virtio_pci_cap (virtio 1.x, 4.1.4). */
#define VCAP_LEN       2
#define VCAP_CFG_TYPE  3
#define VCAP_BAR       4
#define VCAP_OFFSET    8
#define VCAP_LENGTH    12
#define VCAP_EXTRA     16 /* notify_off_multiplier, or pci_cfg_data */
#define VCAP_SIZE      16
#define VCAP_SIZE_LONG 20

/* The MSI-X capability (PCI 3.0, 6.8.2). */
#define MSIX_CONTROL       2
#define MSIX_TABLE         4
#define MSIX_PBA           8
#define MSIX_CTRL_ENABLE   0x8000
#define MSIX_CTRL_MASKALL  0x4000
#define MSIX_ENTRY_SIZE    16
#define MSIX_VECTOR_MASKED 1

#define REGION_SIZE 0x1000

/* The common configuration structure (virtio 1.x, 4.1.4.3). */
enum common_field {
    CF_DEVICE_FEATURE_SELECT,
    CF_DEVICE_FEATURE,
    CF_DRIVER_FEATURE_SELECT,
    CF_DRIVER_FEATURE,
    CF_MSIX_CONFIG,
    CF_NUM_QUEUES,
    CF_DEVICE_STATUS,
    CF_CONFIG_GENERATION,
    CF_QUEUE_SELECT,
    CF_QUEUE_SIZE,
    CF_QUEUE_MSIX_VECTOR,
    CF_QUEUE_ENABLE,
    CF_QUEUE_NOTIFY_OFF,
    CF_QUEUE_DESC,
    CF_QUEUE_DRIVER,
    CF_QUEUE_DEVICE,
    CF_COUNT
};

static const struct {
    uint8_t offset, size;
} common_layout[CF_COUNT] = {
    [CF_DEVICE_FEATURE_SELECT] = {0x00, 4}, [CF_DEVICE_FEATURE] = {0x04, 4},
    [CF_DRIVER_FEATURE_SELECT] = {0x08, 4}, [CF_DRIVER_FEATURE] = {0x0c, 4},
    [CF_MSIX_CONFIG] = {0x10, 2},           [CF_NUM_QUEUES] = {0x12, 2},
    [CF_DEVICE_STATUS] = {0x14, 1},         [CF_CONFIG_GENERATION] = {0x15, 1},
    [CF_QUEUE_SELECT] = {0x16, 2},          [CF_QUEUE_SIZE] = {0x18, 2},
    [CF_QUEUE_MSIX_VECTOR] = {0x1a, 2},     [CF_QUEUE_ENABLE] = {0x1c, 2},
    [CF_QUEUE_NOTIFY_OFF] = {0x1e, 2},      [CF_QUEUE_DESC] = {0x20, 8},
    [CF_QUEUE_DRIVER] = {0x28, 8},          [CF_QUEUE_DEVICE] = {0x30, 8},
};
#define COMMON_CFG_SIZE 0x38

/* ---- byte-granular field access ---- */

static bool overlaps(uint64_t a, unsigned a_size, uint64_t b, unsigned b_size)
{
    return a < b + b_size && b < a + a_size;
}

/* The bytes of the field at [field, field+field_size) that the access at
 * [at, at+size) covers, placed where they sit in the access's value. */
static uint64_t field_to_access(uint64_t field_value, uint64_t field, unsigned field_size,
                                uint64_t at, unsigned size)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < size; i++) {
        if (at + i >= field && at + i < field + field_size)
            v |= ((field_value >> (8 * (at + i - field))) & 0xff) << (8 * i);
    }
    return v;
}

/* The field's value after the access at [at, at+size) wrote value. */
static uint64_t access_to_field(uint64_t field_value, uint64_t field, unsigned field_size,
                                uint64_t at, unsigned size, uint64_t value)
{
    for (unsigned i = 0; i < size; i++) {
        if (at + i >= field && at + i < field + field_size) {
            unsigned shift = 8 * (unsigned)(at + i - field);
            field_value &= ~(0xffull << shift);
            field_value |= ((value >> (8 * i)) & 0xff) << shift;
        }
    }
    return field_value;
}

static uint64_t size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* ---- small state helpers ---- */

static unsigned vector_count(const struct virtio_pci *t)
{
    return t->p.num_queues + 1;
}

static uint64_t device_features(const struct virtio_pci *t)
{
    return t->p.features | 1ull << VIRTIO_F_VERSION_1;
}

static uint16_t vector_or_none(const struct virtio_pci *t, uint64_t v)
{
    return v < vector_count(t) ? (uint16_t)v : VIRTIO_PCI_NO_VECTOR;
}

static bool queue_selected(const struct virtio_pci *t, unsigned *q)
{
    *q = t->queue_select;
    return *q < t->p.num_queues;
}

/* ---- interrupts ---- */

static void intx_update(struct virtio_pci *t)
{
    if (!t->p.intx)
        return;
    bool level = __atomic_load_n(&t->isr, __ATOMIC_SEQ_CST) != 0 &&
                 !__atomic_load_n(&t->intx_disabled, __ATOMIC_RELAXED) &&
                 !(__atomic_load_n(&t->msix_control, __ATOMIC_RELAXED) & MSIX_CTRL_ENABLE);
    t->p.intx(t->p.msi_ctx, level);
}

static bool vector_deliverable(const struct virtio_pci *t, unsigned v)
{
    uint16_t control = __atomic_load_n(&t->msix_control, __ATOMIC_SEQ_CST);

    return (control & MSIX_CTRL_ENABLE) && !(control & MSIX_CTRL_MASKALL) &&
           !(__atomic_load_n(&t->msix[v].ctrl, __ATOMIC_SEQ_CST) & MSIX_VECTOR_MASKED);
}

/* Sends vector v if its pending bit is still set, taking the bit: whoever
 * takes it sends, so a vector is sent once per pending bit. */
static void msix_take_and_send(struct virtio_pci *t, unsigned v)
{
    uint64_t bit = 1ull << v;

    if (!(__atomic_fetch_and(&t->pba, ~bit, __ATOMIC_SEQ_CST) & bit))
        return;
    const struct virtio_pci_msix_entry *e = &t->msix[v];
    uint64_t address = __atomic_load_n(&e->addr_lo, __ATOMIC_RELAXED) |
                       (uint64_t)__atomic_load_n(&e->addr_hi, __ATOMIC_RELAXED) << 32;
    uint32_t data = __atomic_load_n(&e->data, __ATOMIC_RELAXED);
    if (t->p.msi)
        t->p.msi(t->p.msi_ctx, address, data);
}

/* The vCPU side: a mask was just lifted (or MSI-X enabled); send what is
 * pending and now deliverable. */
static void msix_unmasked(struct virtio_pci *t)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    uint64_t pending = __atomic_load_n(&t->pba, __ATOMIC_SEQ_CST);
    for (unsigned v = 0; v < vector_count(t); v++) {
        if ((pending & (1ull << v)) && vector_deliverable(t, v))
            msix_take_and_send(t, v);
    }
}

/* The signalling side. The pending bit is set even while MSI-X is off, so
 * an event that races with the guest turning MSI-X on is sent when it
 * does (at worst one spurious interrupt, which virtio drivers tolerate). */
static void signal_vector(struct virtio_pci *t, uint16_t vector, uint8_t isr_bit)
{
    bool valid = vector < vector_count(t);

    if (valid)
        __atomic_fetch_or(&t->pba, 1ull << vector, __ATOMIC_SEQ_CST);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!(__atomic_load_n(&t->msix_control, __ATOMIC_SEQ_CST) & MSIX_CTRL_ENABLE)) {
        __atomic_fetch_or(&t->isr, isr_bit, __ATOMIC_SEQ_CST);
        intx_update(t);
        return;
    }
    if (valid && vector_deliverable(t, vector))
        msix_take_and_send(t, vector);
}

void virtio_pci_signal_queue(struct virtio_pci *t, unsigned q)
{
    if (q >= t->p.num_queues)
        return;
    signal_vector(t, __atomic_load_n(&t->queue_vector[q], __ATOMIC_RELAXED), 1);
}

void virtio_pci_set_needs_reset(struct virtio_pci *t)
{
    __atomic_fetch_or(&t->status, VIRTIO_STATUS_DEVICE_NEEDS_RESET, __ATOMIC_SEQ_CST);
    signal_vector(t, __atomic_load_n(&t->msix_config, __ATOMIC_RELAXED), 2);
}

void virtio_pci_config_changed(struct virtio_pci *t)
{
    __atomic_fetch_add(&t->config_generation, 1, __ATOMIC_SEQ_CST);
    signal_vector(t, __atomic_load_n(&t->msix_config, __ATOMIC_RELAXED), 2);
}

/* ---- device status, features, queues ---- */

/* Everything the driver configured, back to the state after power-on. */
static void transport_reset_state(struct virtio_pci *t)
{
    t->device_feature_select = 0;
    t->driver_feature_select = 0;
    t->driver_features = 0;
    __atomic_store_n(&t->msix_config, VIRTIO_PCI_NO_VECTOR, __ATOMIC_RELAXED);
    t->queue_select = 0;
    for (unsigned q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++) {
        t->queue_size[q] = t->p.queue_size;
        t->queue_desc[q] = t->queue_driver[q] = t->queue_device[q] = 0;
        __atomic_store_n(&t->queue_vector[q], VIRTIO_PCI_NO_VECTOR, __ATOMIC_RELAXED);
        __atomic_store_n(&t->queue_enabled[q], false, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&t->isr, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&t->pba, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&t->status, 0, __ATOMIC_SEQ_CST);
    intx_update(t);
}

static void device_reset(struct virtio_pci *t)
{
    /* The device stops first: once reset returns nothing signals or
     * reports, so the state cleared below stays cleared. */
    if (t->p.ops && t->p.ops->reset)
        t->p.ops->reset(t->p.dev_ctx);
    transport_reset_state(t);
}

static bool features_acceptable(const struct virtio_pci *t)
{
    return !(t->driver_features & ~device_features(t)) &&
           (t->driver_features & (1ull << VIRTIO_F_VERSION_1));
}

/* The driver only adds bits (virtio 1.x, 2.1.1); 0 resets. FEATURES_OK
 * stays clear when the features cannot be accepted (the driver reads it
 * back); DEVICE_NEEDS_RESET is the device's to set. */
static void status_write(struct virtio_pci *t, uint8_t value)
{
    if (value == 0) {
        device_reset(t);
        return;
    }
    uint8_t old = __atomic_load_n(&t->status, __ATOMIC_SEQ_CST);
    uint8_t add = value & (uint8_t)~old & (uint8_t)~VIRTIO_STATUS_DEVICE_NEEDS_RESET;
    if ((add & VIRTIO_STATUS_FEATURES_OK) && !features_acceptable(t))
        add &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
    uint8_t now = __atomic_or_fetch(&t->status, add, __ATOMIC_SEQ_CST);
    if (!(add & VIRTIO_STATUS_DRIVER_OK))
        return;
    if (!(now & VIRTIO_STATUS_FEATURES_OK)) {
        virtio_pci_set_needs_reset(t); /* DRIVER_OK without negotiated features */
        return;
    }
    if (!(now & VIRTIO_STATUS_DEVICE_NEEDS_RESET) && t->p.ops && t->p.ops->driver_ok)
        t->p.ops->driver_ok(t->p.dev_ctx);
}

/* The driver wrote 1 to queue_enable of a disabled queue q. */
static void queue_enable(struct virtio_pci *t, unsigned q)
{
    uint16_t size = t->queue_size[q];
    bool ok = (__atomic_load_n(&t->status, __ATOMIC_SEQ_CST) & VIRTIO_STATUS_FEATURES_OK) &&
              size != 0 && size <= t->p.queue_size && !(size & (size - 1));

    if (ok) {
        struct virtq *vq = &t->p.queues[q];
        vq->size = size;
        vq->desc_gpa = t->queue_desc[q];
        vq->avail_gpa = t->queue_driver[q];
        vq->used_gpa = t->queue_device[q];
        vq->event_idx = (t->driver_features >> VIRTIO_F_RING_EVENT_IDX) & 1;
        vq->indirect = (t->driver_features >> VIRTIO_F_RING_INDIRECT_DESC) & 1;
        ok = t->p.ops && t->p.ops->queue_enable &&
             t->p.ops->queue_enable(t->p.dev_ctx, q, t->driver_features);
    }
    if (ok)
        __atomic_store_n(&t->queue_enabled[q], true, __ATOMIC_RELEASE);
    else
        virtio_pci_set_needs_reset(t);
}

/* ---- the common configuration structure ---- */

static uint64_t feature_word(uint64_t features, uint32_t select)
{
    return select == 0 ? (uint32_t)features : select == 1 ? features >> 32 : 0;
}

static uint64_t common_get(const struct virtio_pci *t, enum common_field f)
{
    unsigned q;
    bool valid = queue_selected(t, &q);

    switch (f) {
    case CF_DEVICE_FEATURE_SELECT: return t->device_feature_select;
    case CF_DEVICE_FEATURE: return feature_word(device_features(t), t->device_feature_select);
    case CF_DRIVER_FEATURE_SELECT: return t->driver_feature_select;
    case CF_DRIVER_FEATURE: return feature_word(t->driver_features, t->driver_feature_select);
    case CF_MSIX_CONFIG: return t->msix_config;
    case CF_NUM_QUEUES: return t->p.num_queues;
    case CF_DEVICE_STATUS: return __atomic_load_n(&t->status, __ATOMIC_SEQ_CST);
    case CF_CONFIG_GENERATION: return __atomic_load_n(&t->config_generation, __ATOMIC_SEQ_CST);
    case CF_QUEUE_SELECT: return t->queue_select;
    case CF_QUEUE_SIZE: return valid ? t->queue_size[q] : 0;
    case CF_QUEUE_MSIX_VECTOR: return valid ? t->queue_vector[q] : VIRTIO_PCI_NO_VECTOR;
    case CF_QUEUE_ENABLE: return valid && t->queue_enabled[q];
    case CF_QUEUE_NOTIFY_OFF: return valid ? q : 0;
    case CF_QUEUE_DESC: return valid ? t->queue_desc[q] : 0;
    case CF_QUEUE_DRIVER: return valid ? t->queue_driver[q] : 0;
    case CF_QUEUE_DEVICE: return valid ? t->queue_device[q] : 0;
    default: return 0;
    }
}

static void driver_feature_write(struct virtio_pci *t, uint64_t value)
{
    /* Fixed once FEATURES_OK is accepted (virtio 1.x, 3.1.1). */
    if (__atomic_load_n(&t->status, __ATOMIC_SEQ_CST) & VIRTIO_STATUS_FEATURES_OK)
        return;
    if (t->driver_feature_select == 0)
        t->driver_features = (t->driver_features & ~0xffffffffull) | (uint32_t)value;
    else if (t->driver_feature_select == 1)
        t->driver_features = (t->driver_features & 0xffffffffull) | value << 32;
}

static void common_set(struct virtio_pci *t, enum common_field f, uint64_t value)
{
    unsigned q;
    bool valid = queue_selected(t, &q);
    /* The ring configuration is fixed while the queue is enabled. */
    bool configurable = valid && !t->queue_enabled[q];

    switch (f) {
    case CF_DEVICE_FEATURE_SELECT: t->device_feature_select = (uint32_t)value; break;
    case CF_DRIVER_FEATURE_SELECT: t->driver_feature_select = (uint32_t)value; break;
    case CF_DRIVER_FEATURE: driver_feature_write(t, value); break;
    case CF_MSIX_CONFIG:
        __atomic_store_n(&t->msix_config, vector_or_none(t, value), __ATOMIC_RELAXED);
        break;
    case CF_DEVICE_STATUS: status_write(t, (uint8_t)value); break;
    case CF_QUEUE_SELECT: t->queue_select = (uint16_t)value; break;
    case CF_QUEUE_SIZE:
        if (configurable)
            t->queue_size[q] = (uint16_t)value; /* checked when enabled */
        break;
    case CF_QUEUE_MSIX_VECTOR:
        if (valid)
            __atomic_store_n(&t->queue_vector[q], vector_or_none(t, value), __ATOMIC_RELAXED);
        break;
    case CF_QUEUE_ENABLE:
        if (configurable && value == 1)
            queue_enable(t, q);
        break;
    case CF_QUEUE_DESC:
        if (configurable)
            t->queue_desc[q] = value;
        break;
    case CF_QUEUE_DRIVER:
        if (configurable)
            t->queue_driver[q] = value;
        break;
    case CF_QUEUE_DEVICE:
        if (configurable)
            t->queue_device[q] = value;
        break;
    default: break; /* read-only */
    }
}

static uint64_t common_read(const struct virtio_pci *t, unsigned at, unsigned size)
{
    uint64_t v = 0;

    for (unsigned f = 0; f < CF_COUNT; f++) {
        unsigned off = common_layout[f].offset, fsize = common_layout[f].size;
        if (overlaps(at, size, off, fsize))
            v |= field_to_access(common_get(t, f), off, fsize, at, size);
    }
    return v;
}

static void common_write(struct virtio_pci *t, unsigned at, unsigned size, uint64_t value)
{
    for (unsigned f = 0; f < CF_COUNT; f++) {
        unsigned off = common_layout[f].offset, fsize = common_layout[f].size;
        if (overlaps(at, size, off, fsize))
            common_set(t, f, access_to_field(common_get(t, f), off, fsize, at, size, value));
    }
}

/* ---- the MSI-X table: 32-bit words addr_lo, addr_hi, data, ctrl ---- */

static uint32_t *msix_word(struct virtio_pci *t, unsigned w)
{
    struct virtio_pci_msix_entry *e = &t->msix[w / 4];
    uint32_t *words[4] = {&e->addr_lo, &e->addr_hi, &e->data, &e->ctrl};

    return words[w % 4];
}

static uint64_t msix_table_read(struct virtio_pci *t, unsigned at, unsigned size)
{
    uint64_t v = 0;

    for (unsigned w = at / 4; w <= (at + size - 1) / 4 && w < vector_count(t) * 4; w++)
        v |=
            field_to_access(__atomic_load_n(msix_word(t, w), __ATOMIC_RELAXED), w * 4, 4, at, size);
    return v;
}

static void msix_table_write(struct virtio_pci *t, unsigned at, unsigned size, uint64_t value)
{
    for (unsigned w = at / 4; w <= (at + size - 1) / 4 && w < vector_count(t) * 4; w++) {
        uint32_t *p = msix_word(t, w);
        uint32_t v = (uint32_t)access_to_field(*p, w * 4, 4, at, size, value);
        if (w % 4 != 3) {
            __atomic_store_n(p, v, __ATOMIC_RELAXED);
            continue;
        }
        /* Vector control: only the mask bit exists. */
        __atomic_store_n(p, v & MSIX_VECTOR_MASKED, __ATOMIC_SEQ_CST);
        if (!(v & MSIX_VECTOR_MASKED))
            msix_unmasked(t);
    }
}

/* ---- BAR 0 ---- */

static bool bar_access_valid(uint64_t offset, unsigned size)
{
    return (size == 1 || size == 2 || size == 4 || size == 8) && offset < VIRTIO_PCI_BAR_SIZE &&
           (offset % REGION_SIZE) + size <= REGION_SIZE;
}

static uint8_t isr_read(struct virtio_pci *t)
{
    uint8_t v = __atomic_exchange_n(&t->isr, 0, __ATOMIC_SEQ_CST);

    intx_update(t);
    return v;
}

static uint64_t devcfg_read(struct virtio_pci *t, unsigned at, unsigned size)
{
    const struct virtio_pci_ops *ops = t->p.ops;

    if (at + size > t->p.config_size || !ops || !ops->config_read)
        return 0;
    if (size == 8)
        return ops->config_read(t->p.dev_ctx, at, 4) |
               (uint64_t)ops->config_read(t->p.dev_ctx, at + 4, 4) << 32;
    return ops->config_read(t->p.dev_ctx, at, size) & size_mask(size);
}

static void devcfg_write(struct virtio_pci *t, unsigned at, unsigned size, uint64_t value)
{
    const struct virtio_pci_ops *ops = t->p.ops;

    if (at + size > t->p.config_size || !ops || !ops->config_write)
        return;
    if (size == 8) {
        ops->config_write(t->p.dev_ctx, at, 4, (uint32_t)value);
        ops->config_write(t->p.dev_ctx, at + 4, 4, (uint32_t)(value >> 32));
        return;
    }
    ops->config_write(t->p.dev_ctx, at, size, (uint32_t)value);
}

uint64_t virtio_pci_bar_read(struct virtio_pci *t, uint64_t offset, unsigned size)
{
    if (!bar_access_valid(offset, size))
        return 0;
    unsigned at = (unsigned)(offset % REGION_SIZE);
    switch (offset - at) {
    case VIRTIO_PCI_COMMON_OFFSET: return common_read(t, at, size);
    case VIRTIO_PCI_ISR_OFFSET: return at == 0 ? isr_read(t) : 0;
    case VIRTIO_PCI_DEVCFG_OFFSET: return devcfg_read(t, at, size);
    case VIRTIO_PCI_MSIX_OFFSET: return msix_table_read(t, at, size);
    case VIRTIO_PCI_PBA_OFFSET:
        return field_to_access(__atomic_load_n(&t->pba, __ATOMIC_SEQ_CST), 0, 8, at, size);
    default: return 0; /* notifications are write-only; the rest is reserved */
    }
}

static void notify_write(struct virtio_pci *t, unsigned at)
{
    unsigned q = at / VIRTIO_PCI_NOTIFY_MULT;

    if (at % VIRTIO_PCI_NOTIFY_MULT || q >= t->p.num_queues ||
        !__atomic_load_n(&t->queue_enabled[q], __ATOMIC_ACQUIRE))
        return;
    if (t->p.notify)
        t->p.notify(t->p.notify_ctx, q);
}

void virtio_pci_bar_write(struct virtio_pci *t, uint64_t offset, unsigned size, uint64_t value)
{
    if (!bar_access_valid(offset, size))
        return;
    unsigned at = (unsigned)(offset % REGION_SIZE);
    value &= size_mask(size);
    switch (offset - at) {
    case VIRTIO_PCI_COMMON_OFFSET: common_write(t, at, size, value); break;
    case VIRTIO_PCI_DEVCFG_OFFSET: devcfg_write(t, at, size, value); break;
    case VIRTIO_PCI_NOTIFY_OFFSET: notify_write(t, at); break;
    case VIRTIO_PCI_MSIX_OFFSET: msix_table_write(t, at, size, value); break;
    default: break; /* ISR and PBA are read-only */
    }
}

bool virtio_pci_bar_address(const struct virtio_pci *t, uint64_t *gpa)
{
    uint32_t lo = pci_cfg_regs_read(&t->cfg, CFG_BAR0, 4) & ~0xfu;
    uint32_t hi = pci_cfg_regs_read(&t->cfg, CFG_BAR1, 4);

    if (!(pci_cfg_regs_read(&t->cfg, CFG_COMMAND, 2) & CMD_MEMORY))
        return false;
    /* All ones in either half is a sizing probe, not a place. */
    if (lo == (uint32_t)BAR_ADDR_MASK || hi == 0xffffffffu)
        return false;
    *gpa = (uint64_t)hi << 32 | lo;
    return true;
}

/* ---- configuration space ---- */

/* The VIRTIO_PCI_CAP_PCI_CFG window (virtio 1.x, 4.1.4.9): false unless
 * bar, offset and length name a naturally aligned 1, 2 or 4 byte access
 * inside BAR 0. */
static bool pci_cfg_window(const struct virtio_pci *t, uint64_t *offset, unsigned *length)
{
    uint8_t bar = (uint8_t)pci_cfg_regs_read(&t->cfg, CAP_PCI_CFG + VCAP_BAR, 1);
    uint32_t off = pci_cfg_regs_read(&t->cfg, CAP_PCI_CFG + VCAP_OFFSET, 4);
    uint32_t len = pci_cfg_regs_read(&t->cfg, CAP_PCI_CFG + VCAP_LENGTH, 4);

    if (bar != 0 || (len != 1 && len != 2 && len != 4) || off % len || off >= VIRTIO_PCI_BAR_SIZE)
        return false;
    *offset = off;
    *length = len;
    return true;
}

static uint32_t config_read(void *ctx, unsigned offset, unsigned size)
{
    struct virtio_pci *t = ctx;
    uint64_t at;
    unsigned len;

    if (overlaps(offset, size, CAP_PCI_CFG + VCAP_EXTRA, 4) && pci_cfg_window(t, &at, &len))
        pci_cfg_regs_set(&t->cfg, CAP_PCI_CFG + VCAP_EXTRA, len,
                         (uint32_t)virtio_pci_bar_read(t, at, len));
    return pci_cfg_regs_read(&t->cfg, offset, size);
}

static void config_write(void *ctx, unsigned offset, unsigned size, uint32_t value)
{
    struct virtio_pci *t = ctx;
    uint64_t at;
    unsigned len;

    pci_cfg_regs_write(&t->cfg, offset, size, value);
    if (t->p.bar_changed &&
        (overlaps(offset, size, CFG_COMMAND, 2) || overlaps(offset, size, CFG_BAR0, 8)))
        t->p.bar_changed(t->p.notify_ctx);
    if (overlaps(offset, size, CFG_COMMAND, 2)) {
        uint32_t command = pci_cfg_regs_read(&t->cfg, CFG_COMMAND, 2);
        __atomic_store_n(&t->intx_disabled, (command & CMD_INTX_DISABLE) != 0, __ATOMIC_SEQ_CST);
        intx_update(t);
    }
    if (overlaps(offset, size, CAP_MSIX + MSIX_CONTROL, 2)) {
        uint16_t control = (uint16_t)pci_cfg_regs_read(&t->cfg, CAP_MSIX + MSIX_CONTROL, 2);
        __atomic_store_n(&t->msix_control, control, __ATOMIC_SEQ_CST);
        intx_update(t);
        msix_unmasked(t); /* enable or function mask may have been lifted */
    }
    if (overlaps(offset, size, CAP_PCI_CFG + VCAP_EXTRA, 4) && pci_cfg_window(t, &at, &len))
        virtio_pci_bar_write(t, at, len, pci_cfg_regs_read(&t->cfg, CAP_PCI_CFG + VCAP_EXTRA, len));
}

static void cfg_set_writable(struct pci_cfg_regs *r, unsigned offset, unsigned size, uint32_t mask)
{
    for (unsigned i = 0; i < size; i++)
        r->wmask[offset + i] = (uint8_t)(mask >> (8 * i));
}

static void add_virtio_cap(struct pci_cfg_regs *r, unsigned at, unsigned next, unsigned len,
                           uint8_t type, uint32_t offset, uint32_t length)
{
    pci_cfg_regs_set(r, at, 1, PCI_CAP_ID_VNDR);
    pci_cfg_regs_set(r, at + 1, 1, next);
    pci_cfg_regs_set(r, at + VCAP_LEN, 1, len);
    pci_cfg_regs_set(r, at + VCAP_CFG_TYPE, 1, type);
    pci_cfg_regs_set(r, at + VCAP_BAR, 1, 0);
    pci_cfg_regs_set(r, at + VCAP_OFFSET, 4, offset);
    pci_cfg_regs_set(r, at + VCAP_LENGTH, 4, length);
}

static void config_space_build(struct virtio_pci *t)
{
    struct pci_cfg_regs *r = &t->cfg;
    const struct virtio_pci_params *p = &t->p;

    *r = (struct pci_cfg_regs){0};
    pci_cfg_regs_set(r, CFG_VENDOR, 2, VIRTIO_PCI_VENDOR);
    pci_cfg_regs_set(r, CFG_DEVICE, 2, VIRTIO_PCI_DEVICE_BASE + p->device_type);
    pci_cfg_regs_set(r, CFG_STATUS, 2, STATUS_CAP_LIST);
    pci_cfg_regs_set(r, CFG_REVISION, 1, 1); /* a modern-only device (virtio 1.x, 4.1.2) */
    pci_cfg_regs_set(r, CFG_CLASS, 3, p->class_code);
    pci_cfg_regs_set(r, CFG_HEADER, 1, 0);
    pci_cfg_regs_set(r, CFG_BAR0, 4, (uint32_t)p->bar_gpa | BAR_MEM64);
    pci_cfg_regs_set(r, CFG_BAR1, 4, (uint32_t)(p->bar_gpa >> 32));
    pci_cfg_regs_set(r, CFG_SUBSYS_VENDOR, 2, VIRTIO_PCI_VENDOR);
    pci_cfg_regs_set(r, CFG_SUBSYS_ID, 2, p->device_type);
    pci_cfg_regs_set(r, CFG_CAP_PTR, 1, CAP_MSIX);
    /* INTA#, or pin 0 without an INTx line: a pin that leads nowhere makes
     * Linux warn that it cannot route it (no _PRT entry, no GSI). */
    pci_cfg_regs_set(r, CFG_INT_PIN, 1, p->intx ? 1 : 0);

    cfg_set_writable(r, CFG_COMMAND, 2, CMD_MEMORY | CMD_BUS_MASTER | CMD_INTX_DISABLE);
    cfg_set_writable(r, CFG_CACHELINE, 1, 0xff);
    cfg_set_writable(r, CFG_LATENCY, 1, 0xff);
    /* Address bits below the BAR's size are hardwired to 0, so writing all
     * ones reads back the size mask, as on hardware. */
    cfg_set_writable(r, CFG_BAR0, 4, (uint32_t)BAR_ADDR_MASK & ~0xfu);
    cfg_set_writable(r, CFG_BAR1, 4, 0xffffffffu);
    cfg_set_writable(r, CFG_INT_LINE, 1, 0xff);

    pci_cfg_regs_set(r, CAP_MSIX, 1, PCI_CAP_ID_MSIX);
    pci_cfg_regs_set(r, CAP_MSIX + 1, 1, CAP_COMMON);
    pci_cfg_regs_set(r, CAP_MSIX + MSIX_CONTROL, 2, vector_count(t) - 1);
    pci_cfg_regs_set(r, CAP_MSIX + MSIX_TABLE, 4, VIRTIO_PCI_MSIX_OFFSET); /* BIR 0 */
    pci_cfg_regs_set(r, CAP_MSIX + MSIX_PBA, 4, VIRTIO_PCI_PBA_OFFSET);
    cfg_set_writable(r, CAP_MSIX + MSIX_CONTROL, 2, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);

    add_virtio_cap(r, CAP_COMMON, CAP_NOTIFY, VCAP_SIZE, VIRTIO_PCI_CAP_COMMON_CFG,
                   VIRTIO_PCI_COMMON_OFFSET, COMMON_CFG_SIZE);
    add_virtio_cap(r, CAP_NOTIFY, CAP_ISR, VCAP_SIZE_LONG, VIRTIO_PCI_CAP_NOTIFY_CFG,
                   VIRTIO_PCI_NOTIFY_OFFSET,
                   (p->num_queues ? p->num_queues : 1) * VIRTIO_PCI_NOTIFY_MULT);
    pci_cfg_regs_set(r, CAP_NOTIFY + VCAP_EXTRA, 4, VIRTIO_PCI_NOTIFY_MULT);
    add_virtio_cap(r, CAP_ISR, CAP_PCI_CFG, VCAP_SIZE, VIRTIO_PCI_CAP_ISR_CFG,
                   VIRTIO_PCI_ISR_OFFSET, 1);
    add_virtio_cap(r, CAP_PCI_CFG, p->config_size ? CAP_DEVICE : 0, VCAP_SIZE_LONG,
                   VIRTIO_PCI_CAP_PCI_CFG, 0, 0);
    /* The window's bar, offset, length and data are the driver's. */
    cfg_set_writable(r, CAP_PCI_CFG + VCAP_BAR, 1, 0xff);
    cfg_set_writable(r, CAP_PCI_CFG + VCAP_OFFSET, 4, 0xffffffffu);
    cfg_set_writable(r, CAP_PCI_CFG + VCAP_LENGTH, 4, 0xffffffffu);
    cfg_set_writable(r, CAP_PCI_CFG + VCAP_EXTRA, 4, 0xffffffffu);
    if (p->config_size)
        add_virtio_cap(r, CAP_DEVICE, 0, VCAP_SIZE, VIRTIO_PCI_CAP_DEVICE_CFG,
                       VIRTIO_PCI_DEVCFG_OFFSET, p->config_size);
}

/* The largest power of two not above n (n >= 1). */
static uint16_t round_down_pow2(unsigned n)
{
    unsigned v = 1;

    while (v * 2 <= n)
        v *= 2;
    return (uint16_t)v;
}

void virtio_pci_init(struct virtio_pci *t, const struct virtio_pci_params *params)
{
    *t = (struct virtio_pci){.p = *params};
    struct virtio_pci_params *p = &t->p;

    /* The parameters come from the hypervisor, but a bad one must not
     * index past a table: clamp to what the transport can hold. */
    if (p->num_queues > VIRTIO_PCI_MAX_QUEUES)
        p->num_queues = VIRTIO_PCI_MAX_QUEUES;
    if (!p->queues)
        p->num_queues = 0;
    p->queue_size = round_down_pow2(
        p->queue_size == 0 || p->queue_size > VIRTQ_MAX_SIZE ? VIRTQ_MAX_SIZE : p->queue_size);
    if (p->config_size > REGION_SIZE)
        p->config_size = REGION_SIZE;
    p->bar_gpa &= BAR_ADDR_MASK;

    config_space_build(t);
    for (unsigned v = 0; v < VIRTIO_PCI_MAX_QUEUES + 1; v++)
        t->msix[v].ctrl = MSIX_VECTOR_MASKED; /* PCI 3.0: masked after reset */
    transport_reset_state(t);
}

bool virtio_pci_attach(struct virtio_pci *t, struct pci_host *host)
{
    struct pci_function f = {
        .bus = 0,
        .dev = t->p.pci_dev,
        .fn = 0,
        .read = config_read,
        .write = config_write,
        .ctx = t,
    };

    return pci_host_add_function(host, &f);
}
