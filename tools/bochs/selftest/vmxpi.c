// SPDX-License-Identifier: MIT
/*
 * vmxpi: checks the emulator's VT-x posted-interrupt processing, which the
 * Sidecore tests rely on, without Sidecore: it turns VMX on, runs a 64-bit
 * guest in its own address space (the same identity map; no EPT) with
 * virtual-interrupt delivery and posted interrupts, and the guest posts to
 * itself: it sets a bit in the posted-interrupt descriptor's PIR and ON and
 * sends the notification vector to its own physical local APIC (the guest
 * reaches the physical xAPIC page: no APIC-access virtualization). Checks
 * (section numbers of the Intel SDM editions in which APIC virtualization
 * is chapter 29):
 *   1. RFLAGS.IF=1: the posted vector reaches the guest's handler with no VM
 *      exit, and ON and PIR are clear afterwards (29.6).
 *   2. RFLAGS.IF=0: the notification is processed (ON, PIR clear: physical
 *      interrupts cause processing whatever IF is, 24.6.1) but the virtual
 *      interrupt is held (29.2.2) until STI, also across a second
 *      physical interrupt.
 *      A notification with PIR empty delivers nothing.
 *   3. A vector other than the notification vector causes an external-
 *      interrupt VM exit with that vector (acknowledge interrupt on exit).
 *   4. A fault-like VM exit at the boundary right after an exception was
 *      delivered saves the handler's RIP (27.3.3), not the faulting
 *      instruction's: the guest runs UD2 under the monitor trap flag, whose
 *      exit comes before the #UD handler's first instruction. Bochs 3.0
 *      built without its debugger and run with more than one CPU saved the
 *      UD2's RIP with the handler's RSP (our patch 0004), and Linux guests
 *      crashed on it.
 *   5. HLT not exiting (Sidecore's halt = guest): a notification processed
 *      while RFLAGS.IF=0, then "sti; hlt": the pending virtual interrupt
 *      ends the halt and is delivered (29.2.2: virtual-interrupt delivery
 *      wakes the processor from HLT as an external interrupt would), with
 *      no VM exit. Linux's idle loop halts this way, with interrupts off
 *      from its last look for work to the STI. Bochs 3.0 woke a HLT for
 *      physical interrupts only and stayed halted (our patch 0005); the
 *      preemption timer, armed by the host for this stage, is the
 *      watchdog that ends such a halt with a VM exit.
 *   6. HLT not exiting, "cli; hlt": a physical interrupt (the guest arms
 *      the physical local APIC's timer first) causes its external-interrupt
 *      VM exit from the HLT state although RFLAGS.IF=0, since with
 *      "external-interrupt exiting" IF does not block it (24.6.1, table
 *      24-5). Linux parks CPUs that way (stop_this_cpu at power-off), and
 *      the hypervisor's kick must still bring them out. Bochs 3.0 woke a HLT
 *      for a physical interrupt only with IF=1 (our patch 0006).
 * It prints VMXPI lines on COM1 and ends with "VMXPI: PASS" or "VMXPI: FAIL".
 * The guest never EOIs (no virtualized EOI without APIC-access or x2APIC
 * virtualization), so each stage posts a vector of a higher priority class.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#define NOTIFY_VECTOR 0xf2
#define VEC_IF1       0x50
#define VEC_IF0       0x60
#define VEC_OTHER     0x33
#define VEC_HLT       0x70
#define VEC_TIMER     0x80
/* TSC cycles the stage-5 watchdog (the VMX preemption timer) allows. */
#define WATCHDOG_TSC (1ull << 26)
#define LAPIC        0xfee00000ul
#define SPIN         200000

extern uint64_t gdt[];
extern char guest_stubs[];
extern int vmx_enter(int resume);
extern void gdt_load_tr(void);

volatile uint32_t guest_hits[256];
volatile uint32_t guest_bad_vector;
uint8_t tss64[104] __attribute__((aligned(16)));

static uint8_t vmxon_region[4096] __attribute__((aligned(4096)));
static uint8_t vmcs[4096] __attribute__((aligned(4096)));
static uint8_t virtual_apic[4096] __attribute__((aligned(4096)));
/* PIR in bits 255:0, ON bit 256. The SDM asks for 64-byte alignment (26.2.1.1);
 * Bochs 3.0 refuses entry unless the descriptor is page-aligned. */
static volatile uint64_t pid[8] __attribute__((aligned(4096)));
static uint64_t guest_idt[512] __attribute__((aligned(16)));
static uint8_t guest_stack[16384] __attribute__((aligned(16)));

/* What the guest saw, stage by stage (written by the guest, read by the host). */
static volatile struct {
    uint32_t stage;
    uint32_t if1_hits, if1_on, if1_pir, empty_hits;
    uint32_t if0_hits_held, if0_on, if0_pir, if0_hits_after_sti;
    uint32_t other_hits;
    uint64_t ud_rsp_before, ud_rsp_after;
    uint32_t hlt_held, hlt_on, hlt_hits, timer_hits;
} seen;

/* ---- port I/O, serial ---- */

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static void serial_init(void)
{
    outb(0x3f9, 0x00);
    outb(0x3fb, 0x80);
    outb(0x3f8, 0x01); /* 115200 */
    outb(0x3f9, 0x00);
    outb(0x3fb, 0x03);
    outb(0x3fa, 0xc7);
}

static void putc_serial(char c)
{
    if (c == '\n')
        putc_serial('\r');
    while (!(inb(0x3fd) & 0x20))
        ;
    outb(0x3f8, (uint8_t)c);
}

static void puts_serial(const char *s)
{
    while (*s)
        putc_serial(*s++);
}

static void put_hex(uint64_t v)
{
    char buf[19] = "0x";
    int n = 0;
    for (uint64_t t = v; t; t >>= 4)
        n++;
    if (!n)
        n = 1;
    for (int i = 0; i < n; i++)
        buf[2 + i] = "0123456789abcdef"[(v >> (4 * (n - 1 - i))) & 0xf];
    buf[2 + n] = 0;
    puts_serial(buf);
}

/* printf with %s and %x (64-bit) only */
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    puts_serial("VMXPI: ");
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            putc_serial(*fmt);
            continue;
        }
        fmt++;
        if (*fmt == 's')
            puts_serial(va_arg(ap, const char *));
        else
            put_hex(va_arg(ap, uint64_t));
    }
    va_end(ap);
    putc_serial('\n');
}

/* ---- CPU ---- */

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

#define READ_CR(n)                                                                                 \
    ({                                                                                             \
        uint64_t v_;                                                                               \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v_));                                         \
        v_;                                                                                        \
    })

static bool vmwrite(uint64_t field, uint64_t value)
{
    uint8_t fail;
    __asm__ volatile("vmwrite %2, %1; setna %0" : "=q"(fail) : "r"(field), "r"(value) : "cc");
    if (fail)
        say("vmwrite %x failed", field);
    return !fail;
}

static uint64_t vmread(uint64_t field)
{
    uint64_t v = 0;
    __asm__ volatile("vmread %1, %0" : "=r"(v) : "r"(field) : "cc");
    return v;
}

static inline void lapic_write(uint32_t reg, uint32_t v)
{
    *(volatile uint32_t *)(LAPIC + reg) = v;
}
static inline uint32_t lapic_read(uint32_t reg)
{
    return *(volatile uint32_t *)(LAPIC + reg);
}

/* ---- the guest ---- */

static void self_ipi(uint8_t vector)
{
    /* ICR: fixed delivery, assert, destination shorthand "self" (10.6.1) */
    lapic_write(0x300, (1u << 18) | (1u << 14) | vector);
}

static void post(uint8_t vector)
{
    __atomic_or_fetch(&pid[vector / 64], 1ull << (vector % 64), __ATOMIC_SEQ_CST);
    __atomic_or_fetch(&pid[4], 1ull, __ATOMIC_SEQ_CST); /* ON */
    self_ipi(NOTIFY_VECTOR);
}

static uint32_t pir_bit(uint8_t vector)
{
    return (uint32_t)((pid[vector / 64] >> (vector % 64)) & 1);
}

static void spin(volatile uint32_t *until)
{
    for (int i = 0; i < SPIN && !*until; i++)
        __asm__ volatile("pause");
}

/* An instruction that may exit: vmx_enter keeps none of the guest's
 * registers across a VM exit, so every general register is declared
 * clobbered and the compiler keeps nothing in one across it. */
#define GUEST_EXITING_ASM(insns)                                                                   \
    __asm__ volatile(insns::                                                                       \
                         : "memory", "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9",  \
                           "r10", "r11", "r12", "r13", "r14", "r15")

static void guest_main(void)
{
    /* 1: IF=1, the posted vector arrives without an exit */
    seen.stage = 1;
    __asm__ volatile("sti");
    post(VEC_IF1);
    spin(&guest_hits[VEC_IF1]);
    seen.if1_hits = guest_hits[VEC_IF1];
    seen.if1_on = (uint32_t)(pid[4] & 1);
    seen.if1_pir = pir_bit(VEC_IF1);
    /* A notification with nothing posted (Sidecore's normal case when it
     * moved PIR itself before entry) delivers nothing (29.6 step 6). */
    self_ipi(NOTIFY_VECTOR);
    for (int i = 0; i < SPIN; i++)
        __asm__ volatile("pause");
    seen.empty_hits = 0;
    for (int v = 32; v < 256; v++)
        seen.empty_hits += v == VEC_IF1 ? guest_hits[v] - 1 : guest_hits[v];

    /* 2: IF=0, processed (ON, PIR clear) but held until STI */
    seen.stage = 2;
    __asm__ volatile("cli");
    post(VEC_IF0);
    for (int i = 0; i < SPIN; i++)
        __asm__ volatile("pause");
    seen.if0_hits_held = guest_hits[VEC_IF0];
    seen.if0_on = (uint32_t)(pid[4] & 1);
    seen.if0_pir = pir_bit(VEC_IF0);
    /* A second physical interrupt while the virtual one is pending and IF=0:
     * still held (Bochs delivered it here before patch 0001). */
    self_ipi(NOTIFY_VECTOR);
    for (int i = 0; i < SPIN; i++)
        __asm__ volatile("pause");
    seen.if0_hits_held += guest_hits[VEC_IF0];
    __asm__ volatile("sti; nop; nop");
    spin(&guest_hits[VEC_IF0]);
    seen.if0_hits_after_sti = guest_hits[VEC_IF0];

    /* 3: another vector: an external-interrupt exit (the host resumes us) */
    seen.stage = 3;
    self_ipi(VEC_OTHER);
    for (int i = 0; i < SPIN; i++)
        __asm__ volatile("pause");
    seen.other_hits = guest_hits[VEC_OTHER];

    /* 4: an exception, then a VM exit at the very next boundary: the host
     * turns the monitor trap flag on at the VMCALL, so the UD2's #UD is
     * delivered and the MTF exit comes before the handler's first
     * instruction (25.5.2). Registers do not survive exits here (vmx_enter
     * keeps none of the guest's): RSP is kept in memory. */
    seen.stage = 4;
    __asm__ volatile("mov %%rsp, %0; vmcall; ud2; mov %%rsp, %1"
                     : "=m"(seen.ud_rsp_before), "=m"(seen.ud_rsp_after)::"memory");

    /* 5: HLT not exiting (the host turns HLT exiting off and arms its
     * watchdog at the VMCALL): a notification processed with IF=0, then
     * "sti; hlt". The pending virtual interrupt must end the halt. */
    seen.stage = 5;
    GUEST_EXITING_ASM("vmcall");
    __asm__ volatile("cli");
    post(VEC_HLT);
    for (int i = 0; i < 1000; i++)
        __asm__ volatile("pause");
    seen.hlt_held = guest_hits[VEC_HLT];
    seen.hlt_on = (uint32_t)(pid[4] & 1);
    GUEST_EXITING_ASM("sti; hlt");
    seen.hlt_hits = guest_hits[VEC_HLT];

    /* 6: HLT not exiting, IF=0: the physical local APIC's timer (one-shot,
     * divide by 1) must take the halted guest out with its exit. */
    seen.stage = 6;
    GUEST_EXITING_ASM("vmcall"); /* the watchdog again */
    lapic_write(0x3e0, 0xb);
    lapic_write(0x320, VEC_TIMER);
    lapic_write(0x380, 10000);
    GUEST_EXITING_ASM("cli; hlt");
    seen.timer_hits = guest_hits[VEC_TIMER];

    seen.stage = 7;
    GUEST_EXITING_ASM("vmcall"); /* HLT exiting back on, watchdog off */

    seen.stage = 8;
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ---- VMX setup ---- */

static uint32_t adjust(uint32_t want, uint32_t msr)
{
    uint64_t cap = rdmsr(msr);
    return (want | (uint32_t)cap) & (uint32_t)(cap >> 32);
}

static void set_tss_descriptor(void)
{
    uint64_t base = (uint64_t)tss64, limit = sizeof(tss64) - 1;
    gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
             (((base >> 24) & 0xff) << 56);
    gdt[4] = base >> 32;
    gdt_load_tr();
}

static void set_guest_idt(void)
{
    for (int v = 0; v < 256; v++) {
        uint64_t h = (uint64_t)guest_stubs + 16 * v;
        guest_idt[2 * v] =
            (h & 0xffff) | (0x08ull << 16) | (0x8eull << 40) | (((h >> 16) & 0xffff) << 48);
        guest_idt[2 * v + 1] = h >> 32;
    }
}

struct desc_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

static bool setup_vmcs(void)
{
    uint64_t basic = rdmsr(0x480);
    bool true_ctls = basic & (1ull << 55);
    uint32_t rev = (uint32_t)basic & 0x7fffffff;

    /* pin: external-interrupt exiting (0), process posted interrupts (7) */
    uint32_t pin_want = (1u << 0) | (1u << 7);
    uint32_t pin = adjust(pin_want, true_ctls ? 0x48d : 0x481);
    /* primary: HLT exiting (7), use TPR shadow (21), secondary controls (31) */
    uint32_t proc = adjust((1u << 7) | (1u << 21) | (1u << 31), true_ctls ? 0x48e : 0x482);
    /* secondary: virtual-interrupt delivery (9) */
    uint32_t proc2 = adjust(1u << 9, 0x48b);
    /* exit: host address-space size (9), acknowledge interrupt on exit (15) */
    uint32_t exit = adjust((1u << 9) | (1u << 15), true_ctls ? 0x48f : 0x483);
    /* entry: IA-32e mode guest (9) */
    uint32_t entry = adjust(1u << 9, true_ctls ? 0x490 : 0x484);
    if ((pin & pin_want) != pin_want) {
        say("posted interrupts: no (pin-based allowed-1 %x)",
            rdmsr(true_ctls ? 0x48d : 0x481) >> 32);
        return false;
    }
    if (!(proc2 & (1u << 9)) || !(exit & (1u << 15))) {
        say("virtual-interrupt delivery or acknowledge-on-exit missing");
        return false;
    }
    say("posted interrupts: yes");

    *(uint32_t *)vmcs = rev;
    uint64_t pa = (uint64_t)vmcs;
    uint8_t fail;
    __asm__ volatile("vmclear %1; setna %0" : "=q"(fail) : "m"(pa) : "cc", "memory");
    __asm__ volatile("vmptrld %1; setna %0" : "=q"(fail) : "m"(pa) : "cc", "memory");
    if (fail) {
        say("vmptrld failed");
        return false;
    }

    struct desc_ptr gdtr, idtr = {sizeof(guest_idt) - 1, (uint64_t)guest_idt};
    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    bool ok = true;
    ok &= vmwrite(0x4000, pin);
    ok &= vmwrite(0x4002, proc);
    ok &= vmwrite(0x401e, proc2);
    ok &= vmwrite(0x400c, exit);
    ok &= vmwrite(0x4012, entry);
    ok &= vmwrite(0x4004, 0); /* exception bitmap */
    ok &= vmwrite(0x401c, 0); /* TPR threshold */
    ok &= vmwrite(0x2012, (uint64_t)virtual_apic);
    ok &= vmwrite(0x0002, NOTIFY_VECTOR); /* posted-interrupt notification vector */
    ok &= vmwrite(0x2016, (uint64_t)pid); /* posted-interrupt descriptor */
    for (unsigned f = 0x201c; f <= 0x2022; f += 2)
        ok &= vmwrite(f, 0);      /* EOI-exit bitmaps: no vector is level */
    ok &= vmwrite(0x0810, 0);     /* guest interrupt status: RVI = SVI = 0 */
    ok &= vmwrite(0x2800, ~0ull); /* VMCS link pointer */
    ok &= vmwrite(0x6000, 0);
    ok &= vmwrite(0x6002, 0);

    /* host state: what runs now */
    ok &= vmwrite(0x6c00, READ_CR(0));
    ok &= vmwrite(0x6c02, READ_CR(3));
    ok &= vmwrite(0x6c04, READ_CR(4));
    ok &= vmwrite(0x0c00, 0x10);
    ok &= vmwrite(0x0c02, 0x08);
    ok &= vmwrite(0x0c04, 0x10);
    ok &= vmwrite(0x0c06, 0x10);
    ok &= vmwrite(0x0c08, 0);
    ok &= vmwrite(0x0c0a, 0);
    ok &= vmwrite(0x0c0c, 0x18);
    ok &= vmwrite(0x6c06, 0);
    ok &= vmwrite(0x6c08, 0);
    ok &= vmwrite(0x6c0a, (uint64_t)tss64);
    ok &= vmwrite(0x6c0c, gdtr.base);
    ok &= vmwrite(0x6c0e, 0);
    ok &= vmwrite(0x4c00, 0);
    ok &= vmwrite(0x6c10, 0);
    ok &= vmwrite(0x6c12, 0);

    /* guest state: 64-bit ring 0, the same address space, its own IDT and stack */
    ok &= vmwrite(0x6800, READ_CR(0));
    ok &= vmwrite(0x6802, READ_CR(3));
    ok &= vmwrite(0x6804, READ_CR(4));
    for (unsigned i = 0; i < 6; i++) {
        bool code = i == 1;
        bool fsgs = i == 4 || i == 5;
        ok &= vmwrite(0x0800 + 2 * i, code ? 0x08 : fsgs ? 0 : 0x10);
        ok &= vmwrite(0x6806 + 2 * i, 0);
        ok &= vmwrite(0x4800 + 2 * i, 0xffffffff);
        ok &= vmwrite(0x4814 + 2 * i, code ? 0xa09b : fsgs ? 0x10000 : 0xc093);
    }
    ok &= vmwrite(0x080c, 0); /* LDTR: unusable */
    ok &= vmwrite(0x6812, 0);
    ok &= vmwrite(0x480c, 0);
    ok &= vmwrite(0x4820, 0x10000);
    ok &= vmwrite(0x080e, 0x18); /* TR: busy 64-bit TSS */
    ok &= vmwrite(0x6814, (uint64_t)tss64);
    ok &= vmwrite(0x480e, sizeof(tss64) - 1);
    ok &= vmwrite(0x4822, 0x8b);
    ok &= vmwrite(0x6816, gdtr.base);
    ok &= vmwrite(0x4810, gdtr.limit);
    ok &= vmwrite(0x6818, idtr.base);
    ok &= vmwrite(0x4812, idtr.limit);
    ok &= vmwrite(0x681a, 0x400); /* DR7 */
    ok &= vmwrite(0x681c, (uint64_t)(guest_stack + sizeof(guest_stack) - 8));
    ok &= vmwrite(0x681e, (uint64_t)guest_main);
    ok &= vmwrite(0x6820, 0x2); /* RFLAGS: IF=0 */
    ok &= vmwrite(0x6822, 0);
    ok &= vmwrite(0x4824, 0); /* interruptibility */
    ok &= vmwrite(0x4826, 0); /* activity: active */
    ok &= vmwrite(0x482a, 0);
    ok &= vmwrite(0x6824, 0);
    ok &= vmwrite(0x6826, 0);
    return ok;
}

static bool vmx_on(void)
{
    uint32_t a, b, c, d;
    cpuid(1, &a, &b, &c, &d);
    if (!(c & (1u << 5))) {
        say("no VMX in CPUID");
        return false;
    }
    uint64_t fc = rdmsr(0x3a);
    if (!(fc & 1))
        wrmsr(0x3a, fc | 1 | 4); /* lock, VMXON outside SMX */
    else if (!(fc & 4)) {
        say("VMX disabled by IA32_FEATURE_CONTROL");
        return false;
    }
    uint64_t cr0 = (READ_CR(0) | rdmsr(0x486)) & rdmsr(0x487);
    uint64_t cr4 = (READ_CR(4) | rdmsr(0x488) | (1u << 13)) & rdmsr(0x489);
    __asm__ volatile("mov %0, %%cr0" ::"r"(cr0));
    __asm__ volatile("mov %0, %%cr4" ::"r"(cr4));
    *(uint32_t *)vmxon_region = (uint32_t)rdmsr(0x480) & 0x7fffffff;
    uint64_t pa = (uint64_t)vmxon_region;
    uint8_t fail;
    __asm__ volatile("vmxon %1; setna %0" : "=q"(fail) : "m"(pa) : "cc", "memory");
    if (fail)
        say("vmxon failed");
    return !fail;
}

static int failures;

static void check(bool ok, const char *what, uint64_t seen_value)
{
    say("%s %s (%x)", ok ? "ok  " : "bad ", what, seen_value);
    failures += !ok;
}

void vmxpi_main(void)
{
    serial_init();
    say("start");
    outb(0x21, 0xff); /* mask both PICs: their timer would exit the guest too */
    outb(0xa1, 0xff);
    set_tss_descriptor();
    set_guest_idt();
    lapic_write(0xf0, lapic_read(0xf0) | 0x1ff); /* software-enable the local APIC, spurious 0xff */
    if (!vmx_on() || !setup_vmcs()) {
        say("FAIL: no VMX with posted interrupts");
        return;
    }

    unsigned exits = 0, other_exits = 0, other_vector = 0, mtf_exits = 0, watchdog_exits = 0;
    unsigned timer_exits = 0, timer_vector = 0, timer_watchdog_exits = 0;
    uint64_t mtf_rip = 0, watchdog_activity = 0;
    bool watchdog_ok = rdmsr(0x481) & (1ull << (32 + 6)); /* pin: preemption timer */
    int resume = 0;
    for (;;) {
        if (vmx_enter(resume)) {
            say("FAIL: VM entry failed, instruction error %x", vmread(0x4400));
            return;
        }
        resume = 1;
        exits++;
        uint32_t reason = (uint32_t)vmread(0x4402);
        uint32_t info = (uint32_t)vmread(0x4404);
        if ((reason & 0xffff) == 1) { /* external interrupt, acknowledged */
            say("exit: external interrupt, vector %x, guest stage %x", (uint64_t)(info & 0xff),
                (uint64_t)seen.stage);
            if (seen.stage == 6) { /* stage 6's timer */
                timer_exits++;
                timer_vector = info & 0xff;
            } else {
                other_exits++;
                other_vector = info & 0xff;
            }
            lapic_write(0xb0, 0); /* EOI the acknowledged vector */
            continue;
        }
        if ((reason & 0xffff) == 18) {
            vmwrite(0x681e, vmread(0x681e) + vmread(0x440c));
            if (seen.stage == 4) { /* stage 4 asks for the monitor trap flag */
                vmwrite(0x4002, vmread(0x4002) | (1u << 27));
            } else if (seen.stage == 5 || seen.stage == 6) {
                /* HLT exiting off; the preemption timer as the watchdog */
                vmwrite(0x4002, vmread(0x4002) & ~(1u << 7));
                if (watchdog_ok) {
                    vmwrite(0x4000, vmread(0x4000) | (1u << 6));
                    vmwrite(0x482e, WATCHDOG_TSC >> (rdmsr(0x485) & 0x1f));
                }
            } else { /* stage 7: HLT exiting back on, watchdog off */
                vmwrite(0x4002, vmread(0x4002) | (1u << 7));
                vmwrite(0x4000, vmread(0x4000) & ~(1u << 6));
            }
            continue;
        }
        if ((reason & 0xffff) == 52) { /* the watchdog: stage 5's or 6's HLT was not woken */
            if (seen.stage == 6)
                timer_watchdog_exits++;
            else
                watchdog_exits++;
            watchdog_activity = vmread(0x4826);
            say("exit: watchdog, guest stage %x, activity state %x", (uint64_t)seen.stage,
                watchdog_activity);
            vmwrite(0x4000, vmread(0x4000) & ~(1u << 6));
            vmwrite(0x4826, 0); /* active: the entry then delivers the pending interrupt */
            continue;
        }
        if ((reason & 0xffff) == 37) { /* MTF: right after the #UD was delivered */
            mtf_rip = vmread(0x681e);
            mtf_exits++;
            vmwrite(0x4002, vmread(0x4002) & ~(1u << 27));
            continue;
        }
        if ((reason & 0xffff) == 12) /* HLT: the guest is done (or hit an exception) */
            break;
        say("FAIL: unexpected exit reason %x (qualification %x, rip %x), guest stage %x",
            (uint64_t)reason, vmread(0x6400), vmread(0x681e), (uint64_t)seen.stage);
        return;
    }
    if (guest_bad_vector) {
        say("FAIL: guest exception %x at stage %x", (uint64_t)(guest_bad_vector - 1),
            (uint64_t)seen.stage);
        return;
    }
    check(seen.if1_hits == 1, "IF=1: posted vector delivered once", seen.if1_hits);
    check(seen.if1_on == 0, "IF=1: ON cleared", seen.if1_on);
    check(seen.if1_pir == 0, "IF=1: PIR bit cleared", seen.if1_pir);
    check(seen.empty_hits == 0, "empty PIR: a notification delivers no vector", seen.empty_hits);
    check(seen.if0_hits_held == 0, "IF=0: posted vector held", seen.if0_hits_held);
    check(seen.if0_on == 0, "IF=0: notification processed, ON cleared", seen.if0_on);
    check(seen.if0_pir == 0, "IF=0: PIR bit moved to the virtual IRR", seen.if0_pir);
    check(seen.if0_hits_after_sti == 1, "IF=0: delivered after STI", seen.if0_hits_after_sti);
    check(other_exits == 1 && other_vector == VEC_OTHER,
          "other vector: one external-interrupt exit with it", (uint64_t)other_vector);
    check(seen.other_hits == 0, "other vector: not delivered to the guest", seen.other_hits);
    check(mtf_exits == 1 && mtf_rip == (uint64_t)guest_stubs + 16 * 6,
          "exit right after #UD delivery: saved RIP is the handler's", mtf_rip);
    check(guest_hits[6] == 1, "#UD delivered once", guest_hits[6]);
    check(seen.ud_rsp_after == seen.ud_rsp_before,
          "RSP after the #UD handler returned is unchanged",
          seen.ud_rsp_before - seen.ud_rsp_after);
    check(watchdog_ok, "preemption timer available for the HLT watchdog", watchdog_ok);
    check(seen.hlt_held == 0 && seen.hlt_on == 0,
          "HLT in guest: notification processed with IF=0, vector held", seen.hlt_held);
    check(watchdog_exits == 0 && seen.hlt_hits == 1,
          "HLT in guest: the pending virtual interrupt ends the halt with no exit",
          watchdog_exits ? 0x100 | watchdog_activity : seen.hlt_hits);
    check(timer_watchdog_exits == 0 && timer_exits == 1 && timer_vector == VEC_TIMER,
          "HLT in guest with IF=0: a physical interrupt exits from the halt",
          timer_watchdog_exits ? 0x100 | timer_exits : timer_vector);
    check(seen.timer_hits == 0, "HLT in guest with IF=0: the interrupt not delivered to the guest",
          seen.timer_hits);
    check(exits == 8, "VM exits in all: the other vector's, the timer's, 4 VMCALLs, MTF, final HLT",
          exits);
    check(guest_hits[NOTIFY_VECTOR] == 0, "notification vector never reached the guest",
          guest_hits[NOTIFY_VECTOR]);
    say(failures ? "FAIL (%x checks)" : "PASS", (uint64_t)failures);
}
