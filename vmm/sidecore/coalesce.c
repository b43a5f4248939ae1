/* SPDX-License-Identifier: MIT */
/*
 * vIC's adaptive coalescing and the kick limit (vmm/sidecore/coalesce.h).
 * The per-completion path only adds and compares; the epoch's recompute
 * divides once.
 */
#include "vmm/sidecore/coalesce.h"

#include "vmm/sidecore/net_coalesce.h"

void coalesce_params_default(struct coalesce_params *p)
{
    p->cif_threshold = COALESCE_CIF_THRESHOLD;
    p->min_rate = COALESCE_MIN_RATE;
    p->epoch_ns = COALESCE_EPOCH_NS;
    p->time_cap_ns = COALESCE_TIME_CAP_NS;
    p->net_min_rate = NET_COALESCE_MIN_RATE;
}

void coalesce_init(struct coalesce_queue *c, uint64_t now_ns)
{
    *c = (struct coalesce_queue){.countdown = 1, .epoch_start_ns = now_ns};
}

uint32_t coalesce_shift_for(const struct coalesce_params *p, uint64_t mean_cif,
                            uint64_t completions, uint64_t elapsed_ns)
{
    /* rate < min_rate  <=>  completions * 1e9 < min_rate * elapsed: no
     * division, and no overflow for any epoch shorter than centuries. */
    if (mean_cif <= p->cif_threshold ||
        completions * 1000000000ull < (uint64_t)p->min_rate * elapsed_ns)
        return 0;
    if (mean_cif >= 32)
        return 3;
    if (mean_cif >= 16)
        return 2;
    if (mean_cif >= 8)
        return 1;
    return 0;
}

/* Once an epoch: the new ratio from the epoch's mean CIF and rate. */
static void epoch_roll(struct coalesce_queue *c, const struct coalesce_params *p, uint64_t now)
{
    uint64_t elapsed = now - c->epoch_start_ns;

    if (elapsed < p->epoch_ns)
        return;
    uint64_t mean =
        c->epoch_completions ? c->epoch_cif_sum / c->epoch_completions : 0; /* once an epoch */
    c->shift = coalesce_shift_for(p, mean, c->epoch_completions, elapsed);
    if (c->countdown > (1u << c->shift))
        c->countdown = 1u << c->shift;
    c->epoch_start_ns = now;
    c->epoch_completions = 0;
    c->epoch_cif_sum = 0;
    c->epochs++;
}

static bool send(struct coalesce_queue *c)
{
    c->held = false;
    c->countdown = 1u << c->shift;
    c->interrupts++;
    return true;
}

bool coalesce_complete(struct coalesce_queue *c, const struct coalesce_params *p, unsigned n,
                       unsigned cif, bool wanted, uint64_t now_ns)
{
    epoch_roll(c, p, now_ns);
    c->completions += n;
    c->epoch_completions += n;
    /* Each of the n saw itself and those after it in flight as it
     * completed: cif + n, cif + n - 1, ..., cif + 1. Sampling cif alone
     * (what is left) would make a reader that keeps 32 in flight look
     * like 31 and never reach the table's top row. */
    c->epoch_cif_sum += (uint64_t)cif * n + ((uint64_t)n * (n + 1) >> 1);
    if (!wanted && !c->held)
        return false; /* nothing owed: the driver polls, or is not waiting yet */
    if (c->shift == 0 || cif <= p->cif_threshold) {
        if (c->held)
            c->released_cif++;
        return send(c);
    }
    if (c->countdown <= n)
        return send(c);
    c->countdown -= n;
    if (!c->held) {
        c->held = true;
        c->held_since_ns = now_ns;
        c->held_count++;
    }
    /* Held too long already (completions kept coming, each too few). */
    if (now_ns - c->held_since_ns >= p->time_cap_ns) {
        c->released_cap++;
        return send(c);
    }
    return false;
}

bool coalesce_due(struct coalesce_queue *c, const struct coalesce_params *p, unsigned cif,
                  uint64_t now_ns)
{
    if (!c->held)
        return false;
    if (cif <= p->cif_threshold) {
        c->released_cif++;
        return send(c);
    }
    if (now_ns - c->held_since_ns >= p->time_cap_ns) {
        c->released_cap++;
        return send(c);
    }
    return false;
}

unsigned coalesce_ratio_permille(const struct coalesce_queue *c)
{
    return 1000u >> c->shift;
}

void kick_limit_request(struct kick_limit *k)
{
    k->pending = true;
}

bool kick_limit_due(struct kick_limit *k, uint64_t gap_ns, uint64_t now_ns)
{
    if (!k->pending || (k->sent_once && now_ns - k->last_ns < gap_ns))
        return false;
    k->pending = false;
    k->sent_once = true;
    k->last_ns = now_ns;
    return true;
}
