/* SPDX-License-Identifier: MIT */
/* A ticket spinlock: fair, small, for the slow paths (console, allocator).
 * The sidecore poll loop takes no locks. */
#ifndef SIDECORE_LIB_SPINLOCK_H
#define SIDECORE_LIB_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct spinlock {
    volatile uint32_t next;
    volatile uint32_t owner;
};

#define SPINLOCK_INIT                                                                              \
    {                                                                                              \
        0, 0                                                                                       \
    }

static inline void spin_lock(struct spinlock *l)
{
    uint32_t ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);

    while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != ticket)
        __builtin_ia32_pause();
}

/* Takes the lock only if nobody holds or waits for it. */
static inline bool spin_trylock(struct spinlock *l)
{
    uint32_t owner = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
    uint32_t expected = owner;

    return __atomic_compare_exchange_n(&l->next, &expected, owner + 1, false, __ATOMIC_ACQUIRE,
                                       __ATOMIC_RELAXED);
}

static inline void spin_unlock(struct spinlock *l)
{
    __atomic_store_n(&l->owner, l->owner + 1, __ATOMIC_RELEASE);
}

/* Saves the interrupt flag and disables interrupts while the lock is held. */
static inline uint64_t spin_lock_irqsave(struct spinlock *l)
{
    uint64_t flags;

    asm volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
    spin_lock(l);
    return flags;
}

static inline void spin_unlock_irqrestore(struct spinlock *l, uint64_t flags)
{
    spin_unlock(l);
    if (flags & (1u << 9))
        asm volatile("sti" ::: "memory");
}

#endif
