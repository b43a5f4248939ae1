/* SPDX-License-Identifier: MIT */
/*
 * The result lines every test guest prints, one per check:
 *   PASS <what>
 *   FAIL <what> (<details>)
 * and, once at the end,
 *   RESULT <n> passed, <m> failed
 * after which the guest stops through HC_EXIT with exit code m. A system test
 * reads these lines from the console (each prefixed "[NAME] ").
 */
#ifndef GUEST_TESTS_EXPECT_H
#define GUEST_TESTS_EXPECT_H

#include <stdbool.h>
#include <stdint.h>

/* Prints PASS or FAIL for one check; returns ok so a test can skip checks
 * that depend on this one. */
bool expect_check(bool ok, const char *what, const char *detail_fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define EXPECT(cond, what) expect_check((cond), (what), "%s is false", #cond)

#define EXPECTF(cond, what, ...) expect_check((cond), (what), __VA_ARGS__)

#define EXPECT_EQ(got, want, what)                                                                 \
    ({                                                                                             \
        uint64_t got_ = (uint64_t)(got), want_ = (uint64_t)(want);                                 \
        expect_check(got_ == want_, (what), "got %#llx, expected %#llx", (unsigned long long)got_, \
                     (unsigned long long)want_);                                                   \
    })

unsigned expect_failures(void);
unsigned expect_passes(void);

/* Prints the RESULT line and stops the guest with exit code = failures. */
void test_finish(void) __attribute__((noreturn));

#endif
