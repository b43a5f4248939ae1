/* SPDX-License-Identifier: MIT */
/*
 * The [guest NAME] sections of sidecore.cfg: turns the tokenizer's items
 * (kernel/config/ini.c) into checked struct guest_config entries and fits
 * them to the machine's free cores and memory in file order. A config is
 * written by hand and read once at boot, far from an editor, so every
 * problem gets one message that says what is wrong and, where it can, what
 * would be right; the guest it concerns is dropped and parsing goes on so a
 * single boot shows every mistake. Pure code: host-tested and fuzzed.
 */
#include "vmm/guest_config.h"

#include "kernel/config/ini.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/str.h"
#include "kernel/lib/string.h"

/* Guest sections remembered for duplicate-name detection. Far more than
 * GUEST_MAX, so only a file that is garbage anyway goes past it. */
#define SEEN_MAX 64
/* NVMe disks remembered for overlap detection; past it, the accepted
 * guests' disks are still compared. */
#define SEEN_DISKS_MAX 32
/* How much of a value or name a message quotes. */
#define QUOTE_MAX 48

_Static_assert(DISK_PATH_LEN == GUEST_PATH_LEN, "a RAM disk's path is a boot-file path");

enum key_id {
    KEY_CPUS,
    KEY_MEMORY,
    KEY_KERNEL,
    KEY_INITRD,
    KEY_CMDLINE,
    KEY_ON_POWEROFF,
    KEY_ON_REBOOT,
    KEY_DISK,
    KEY_DISK_QUEUES,
    KEY_IO,
    KEY_INTERRUPT_COALESCING,
    KEY_MODULE,
    KEY_NET,
    KEY_NET_QUEUES,
    KEY_HALT,
    KEY_VIRTIO_CONSOLE,
    KEY_COUNT,
};

static const char *const key_names[KEY_COUNT] = {
    [KEY_CPUS] = "cpus",
    [KEY_MEMORY] = "memory",
    [KEY_KERNEL] = "kernel",
    [KEY_INITRD] = "initrd",
    [KEY_CMDLINE] = "cmdline",
    [KEY_ON_POWEROFF] = "on_poweroff",
    [KEY_ON_REBOOT] = "on_reboot",
    [KEY_DISK] = "disk",
    [KEY_DISK_QUEUES] = "disk_queues",
    [KEY_IO] = "io",
    [KEY_INTERRUPT_COALESCING] = "interrupt_coalescing",
    [KEY_MODULE] = "module",
    [KEY_NET] = "net",
    [KEY_NET_QUEUES] = "net_queues",
    [KEY_HALT] = "halt",
    [KEY_VIRTIO_CONSOLE] = "virtio_console",
};

static const enum key_id required_keys[] = {KEY_CPUS, KEY_MEMORY, KEY_KERNEL};

enum section_kind {
    SECTION_NONE,       /* before the first header */
    SECTION_HYPERVISOR, /* read by kernel/config/hv_config.c */
    SECTION_GUEST,
    SECTION_SWITCH, /* [switch NAME]: its uplink */
    SECTION_SKIP,   /* unknown, or a header the tokenizer rejected */
};

struct seen_name {
    char name[GUEST_NAME_LEN];
    unsigned line;
};

/* An NVMe disk of an earlier section, whether or not its guest was kept:
 * two sections claiming the same blocks is a mistake either way. */
struct seen_disk {
    uint64_t start, length;
    uint32_t ctrl, nsid;
    bool whole;
    unsigned line;             /* of its section's header */
    char guest[QUOTE_MAX + 4]; /* its name as written; "" if it had none */
};

struct parse_state {
    const struct guest_config_limits *limits;
    struct guest_config_set *out;
    guest_config_error_fn err;
    void *err_ctx;

    /* The text, to tell a rejected header from a rejected key line. */
    const char *text;
    size_t len;
    size_t cursor_pos;    /* start of line cursor_line */
    unsigned cursor_line; /* 1-based */

    enum section_kind kind;
    struct guest_config cur;
    char cur_label[QUOTE_MAX + 4]; /* the name as written, for messages */
    bool cur_bad;
    unsigned key_line[KEY_COUNT]; /* 0: not given yet */
    bool key_bad[KEY_COUNT];      /* given, and reported as wrong */

    uint32_t cpus_left;
    uint64_t memory_left;

    struct seen_name seen[SEEN_MAX];
    unsigned seen_count;

    struct seen_disk seen_disks[SEEN_DISKS_MAX];
    unsigned seen_disk_count;

    struct guest_switch_config *cur_switch; /* SECTION_SWITCH; NULL if its header was bad */
};

static void report(struct parse_state *s, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(struct parse_state *s, unsigned line, const char *fmt, ...)
{
    char msg[320];
    va_list ap;

    va_start(ap, fmt);
    fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    s->out->errors++;
    if (s->err)
        s->err(s->err_ctx, line, msg);
}

/* Copies s for quoting in a message, shortened with "..." if it is long. */
static void quote(char *dst, size_t size, const char *s)
{
    if (str_copy(dst, s, size) >= size && size > 4)
        memcpy(dst + size - 4, "...", 4);
}

/* A byte count the way a config would write it, exactly: "4M", "1G", "64K". */
static void format_exact_size(char *buf, size_t size, uint64_t bytes)
{
    if (bytes == 0)
        fmt_snprintf(buf, size, "0M");
    else if (bytes % (1ull << 30) == 0)
        fmt_snprintf(buf, size, "%luG", (unsigned long)(bytes >> 30));
    else if (bytes % (1ull << 20) == 0)
        fmt_snprintf(buf, size, "%luM", (unsigned long)(bytes >> 20));
    else if (bytes % (1ull << 10) == 0)
        fmt_snprintf(buf, size, "%luK", (unsigned long)(bytes >> 10));
    else
        fmt_snprintf(buf, size, "%lu", (unsigned long)bytes);
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Edit distance (insert, delete, substitute, swap two neighbours), case
 * insensitive; words longer than INI_MAX_TOKEN count as far from anything. */
static unsigned edit_distance(const char *a, const char *b)
{
    unsigned rows[3][INI_MAX_TOKEN + 1];
    size_t la = strlen(a), lb = strlen(b);

    if (la > INI_MAX_TOKEN || lb > INI_MAX_TOKEN)
        return ~0u;
    unsigned *prev2 = rows[0], *prev = rows[1], *row = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
            unsigned best = prev[j - 1] + cost;
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
                lower(a[i - 2]) == lower(b[j - 1]) && prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            row[j] = best;
        }
        unsigned *t = prev2;
        prev2 = prev;
        prev = row;
        row = t;
    }
    return prev[lb];
}

static bool is_prefix_of(const char *word, const char *of)
{
    size_t n = strlen(word);

    if (n < 3 || n > strlen(of))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (lower(word[i]) != lower(of[i]))
            return false;
    }
    return true;
}

/* The candidate a mistyped word most likely meant, or NULL. */
static const char *closest(const char *word, const char *const *candidates, size_t count)
{
    const char *best = NULL;
    unsigned best_d = ~0u;

    for (size_t i = 0; i < count; i++) {
        unsigned d = edit_distance(word, candidates[i]);
        if (is_prefix_of(word, candidates[i]) && d > 1)
            d = 1; /* "mem" for "memory" */
        if (d <= 2 && d < strlen(candidates[i]) && d < best_d) {
            best = candidates[i];
            best_d = d;
        }
    }
    return best;
}

static bool valid_guest_name(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n >= GUEST_NAME_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* Whether a path leaves the config's directory (mkimage refuses those). */
static bool path_escapes(const char *path)
{
    if (path[0] == '/' || path[0] == '\\')
        return true;
    for (const char *p = path; *p;) {
        const char *e = p;
        while (*e && *e != '/' && *e != '\\')
            e++;
        if (e - p == 2 && p[0] == '.' && p[1] == '.')
            return true;
        p = *e ? e + 1 : e;
    }
    return false;
}

/* ---- switches ---- */

static struct guest_switch_config *find_switch(struct guest_config_set *set, const char *name)
{
    for (unsigned i = 0; i < set->nswitches; i++) {
        if (strcmp(set->switches[i].name, name) == 0)
            return &set->switches[i];
    }
    return NULL;
}

const struct guest_switch_config *guest_config_switch(const struct guest_config_set *set,
                                                      const char *name)
{
    return find_switch((struct guest_config_set *)set, name);
}

static struct guest_switch_config *add_switch(struct guest_config_set *set, const char *name)
{
    if (set->nswitches == GUEST_SWITCHES_MAX)
        return NULL;
    struct guest_switch_config *sw = &set->switches[set->nswitches++];
    memset(sw, 0, sizeof(*sw));
    str_copy(sw->name, name, sizeof(sw->name));
    sw->uplink_nic = -1;
    return sw;
}

/* Before the current guest is accepted: every switch it names exists or
 * can be added, and is served the way the guest is (a switch is polled by
 * one sidecore or serviced by its guests' vCPUs, never both). */
static bool check_guest_switches(struct parse_state *s)
{
    const struct guest_config *g = &s->cur;
    unsigned added = 0;
    bool ok = true;

    for (unsigned i = 0; i < g->nnets; i++) {
        const struct guest_net_spec *n = &g->nets[i];
        const struct guest_switch_config *sw = find_switch(s->out, n->sw);
        bool seen_here = false;
        for (unsigned k = 0; k < i; k++)
            seen_here |= strcmp(g->nets[k].sw, n->sw) == 0;
        if (!sw) {
            if (!seen_here && s->out->nswitches + ++added > GUEST_SWITCHES_MAX) {
                report(s, n->line, "net = %s: one switch too many (at most %u)", n->sw,
                       (unsigned)GUEST_SWITCHES_MAX);
                ok = false;
            }
            continue;
        }
        bool trap = g->io == GUEST_IO_TRAP;
        if (sw->nguests && sw->trap != trap) {
            report(s, n->line,
                   "net = %s: this guest is io = %s, but the switch's other guests are io = %s "
                   "(a switch is served one way)",
                   n->sw, guest_io_mode_name(g->io), sw->trap ? "trap" : "sidecore");
            ok = false;
        } else if (trap && sw->uplink_nic >= 0) {
            report(s, n->line,
                   "net = %s: the switch has an uplink (line %u), which needs a sidecore to poll "
                   "the NIC, but this guest is io = trap",
                   n->sw, sw->uplink_line);
            ok = false;
        }
    }
    return ok;
}

/* The accepted guest's ports. Room was checked by check_guest_switches(). */
static void join_switches(struct parse_state *s, const struct guest_config *g)
{
    for (unsigned i = 0; i < g->nnets; i++) {
        struct guest_switch_config *sw = find_switch(s->out, g->nets[i].sw);
        if (!sw)
            sw = add_switch(s->out, g->nets[i].sw);
        if (!sw)
            continue; /* not reached */
        bool first_port = true;
        for (unsigned k = 0; k < i; k++)
            first_port &= strcmp(g->nets[k].sw, g->nets[i].sw) != 0;
        if (first_port)
            sw->nguests++;
        sw->trap = g->io == GUEST_IO_TRAP;
    }
}

static void start_switch(struct parse_state *s, unsigned line, const char *name)
{
    char shown[QUOTE_MAX];

    s->kind = SECTION_SWITCH;
    s->cur_switch = NULL;
    quote(shown, sizeof(shown), name);
    if (!name[0]) {
        report(s, line, "[switch] needs a name: [switch NAME]");
        return;
    }
    if (!valid_guest_name(name)) {
        report(s, line, "bad switch name '%s' (letters, digits, - and _, at most %u characters)",
               shown, (unsigned)(GUEST_NAME_LEN - 1));
        return;
    }
    struct guest_switch_config *sw = find_switch(s->out, name);
    if (sw && sw->line) {
        report(s, line, "duplicate section [switch %s] (first at line %u)", name, sw->line);
        return;
    }
    if (!sw)
        sw = add_switch(s->out, name);
    if (!sw) {
        report(s, line, "[switch %s] is one switch too many (at most %u)", name,
               (unsigned)GUEST_SWITCHES_MAX);
        return;
    }
    sw->line = line;
    s->cur_switch = sw;
}

static void on_switch_item(struct parse_state *s, const struct ini_item *it)
{
    struct guest_switch_config *sw = s->cur_switch;
    char shown[QUOTE_MAX];
    uint64_t n;

    if (!sw)
        return; /* its header was reported */
    quote(shown, sizeof(shown), it->value);
    if (strcmp(it->key, "uplink") != 0) {
        quote(shown, sizeof(shown), it->key);
        report(s, it->line, "unknown key '%s' in [switch %s] (a switch has 'uplink = nic:N')",
               shown, sw->name);
        return;
    }
    if (sw->uplink_line) {
        report(s, it->line, "'uplink' given twice in [switch %s] (first at line %u)", sw->name,
               sw->uplink_line);
        return;
    }
    sw->uplink_line = it->line;
    if (strncmp(it->value, "nic:", 4) != 0 || !str_to_u64(it->value + 4, &n)) {
        report(s, it->line, "uplink = %s: must be nic:N (N counts NICs from 0; see 'nic')", shown);
        return;
    }
    if (!s->limits->nics_unknown && n >= s->limits->nics) {
        if (s->limits->nics == 0)
            report(s, it->line, "uplink = %s: no NIC was found", shown);
        else
            report(s, it->line, "uplink = %s: there is no such NIC (found nic0 to nic%u)", shown,
                   s->limits->nics - 1);
        return;
    }
    if (sw->nguests && sw->trap) {
        report(s, it->line,
               "uplink = %s: needs a sidecore to poll the NIC, but the guests on switch %s are "
               "io = trap",
               shown, sw->name);
        return;
    }
    for (unsigned i = 0; i < s->out->nswitches; i++) {
        const struct guest_switch_config *o = &s->out->switches[i];
        if (o != sw && o->uplink_nic == (int)n) {
            report(s, it->line, "uplink = %s: already the uplink of switch %s (line %u)", shown,
                   o->name, o->uplink_line);
            return;
        }
    }
    sw->uplink_nic = (int)n;
}

/* ---- a guest's network devices ---- */

void guest_net_default_mac(const char *guest, unsigned index, uint8_t mac[GUEST_MAC_LEN])
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (const char *p = guest; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    mac[0] = 0x02; /* locally administered, unicast */
    mac[1] = (uint8_t)(h >> 24);
    mac[2] = (uint8_t)(h >> 16);
    mac[3] = (uint8_t)(h >> 8);
    mac[4] = (uint8_t)h;
    mac[5] = (uint8_t)index;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "02:00:00:00:00:01" (':' or '-' between bytes). */
static bool parse_mac(const char *text, uint8_t mac[GUEST_MAC_LEN])
{
    for (unsigned i = 0; i < GUEST_MAC_LEN; i++) {
        int hi = hex_digit(text[0]), lo = hi < 0 ? -1 : hex_digit(text[1]);
        if (lo < 0)
            return false;
        mac[i] = (uint8_t)(hi << 4 | lo);
        text += 2;
        if (i + 1 < GUEST_MAC_LEN) {
            if (*text != ':' && *text != '-')
                return false;
            text++;
        }
    }
    return *text == '\0';
}

static void format_mac(char *buf, size_t size, const uint8_t *m)
{
    fmt_snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* The guest (or "this guest") that already has mac, or NULL. */
static const char *mac_owner(struct parse_state *s, const uint8_t *mac, unsigned *line)
{
    for (unsigned i = 0; i < s->cur.nnets; i++) {
        if (memcmp(s->cur.nets[i].mac, mac, GUEST_MAC_LEN) == 0) {
            *line = s->cur.nets[i].line;
            return "this guest";
        }
    }
    for (unsigned g = 0; g < s->out->count; g++) {
        const struct guest_config *o = &s->out->guests[g];
        for (unsigned i = 0; i < o->nnets; i++) {
            if (memcmp(o->nets[i].mac, mac, GUEST_MAC_LEN) == 0) {
                *line = o->nets[i].line;
                return o->name;
            }
        }
    }
    return NULL;
}

/* net = SWITCH or net = SWITCH,mac=XX:XX:XX:XX:XX:XX (spaces allowed
 * around the comma). */
static bool parse_net(struct parse_state *s, const struct ini_item *it)
{
    char shown[QUOTE_MAX], name[GUEST_NAME_LEN + 1], macs[24];
    struct guest_net_spec *n = &s->cur.nets[s->cur.nnets];
    const char *v = it->value, *comma = strchr(v, ',');
    size_t len = comma ? (size_t)(comma - v) : strlen(v);

    quote(shown, sizeof(shown), v);
    if (s->cur.nnets == GUEST_NETS_MAX) {
        report(s, it->line, "net = %s: one network device too many (at most %u a guest)", shown,
               (unsigned)GUEST_NETS_MAX);
        return false;
    }
    while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    if (len == 0 || len >= sizeof(name)) {
        report(s, it->line, "net = %s: needs a switch name (net = NAME or net = NAME,mac=02:..)",
               shown);
        return false;
    }
    memcpy(name, v, len);
    name[len] = '\0';
    if (!valid_guest_name(name)) {
        report(s, it->line,
               "net = %s: bad switch name (letters, digits, - and _, at most %u characters)", shown,
               (unsigned)(GUEST_NAME_LEN - 1));
        return false;
    }
    memset(n, 0, sizeof(*n));
    str_copy(n->sw, name, sizeof(n->sw));
    n->line = it->line;
    if (comma) {
        const char *m = comma + 1;
        while (*m == ' ' || *m == '\t')
            m++;
        if (strncmp(m, "mac=", 4) != 0 || !parse_mac(m + 4, n->mac)) {
            report(s, it->line,
                   "net = %s: after the switch name only ',mac=XX:XX:XX:XX:XX:XX' may follow",
                   shown);
            return false;
        }
        if ((n->mac[0] & 1) ||
            !(n->mac[0] | n->mac[1] | n->mac[2] | n->mac[3] | n->mac[4] | n->mac[5])) {
            report(s, it->line,
                   "net = %s: the MAC must be a unicast, non-zero address (e.g. 02:00:00:00:00:01)",
                   shown);
            return false;
        }
        n->mac_given = true;
    } else {
        guest_net_default_mac(s->cur.name, s->cur.nnets, n->mac);
    }
    unsigned line = 0;
    const char *who = mac_owner(s, n->mac, &line);
    if (who) {
        format_mac(macs, sizeof(macs), n->mac);
        report(s, it->line, "net = %s: MAC %s is already %s's (line %u)%s", shown, macs, who, line,
               n->mac_given ? "" : "; give this one with ',mac='");
        return false;
    }
    s->cur.nnets++;
    return true;
}

static bool parse_net_queues(struct parse_state *s, const struct ini_item *it)
{
    char shown[QUOTE_MAX];
    uint64_t v;

    quote(shown, sizeof(shown), it->value);
    if (!str_to_u64(it->value, &v)) {
        report(s, it->line, "net_queues = %s: not a number", shown);
        return false;
    }
    if (v < 1 || v > GUEST_NET_QUEUES_MAX) {
        report(s, it->line, "net_queues = %s: must be 1 to %u", shown,
               (unsigned)GUEST_NET_QUEUES_MAX);
        return false;
    }
    s->cur.net_queues = (uint32_t)v;
    return true;
}

static void guest_label(struct parse_state *s, const char *written)
{
    quote(s->cur_label, sizeof(s->cur_label), written);
}

static void finish_guest(struct parse_state *s)
{
    struct guest_config *g = &s->cur;
    const char *missing[KEY_COUNT];
    size_t n = 0;

    for (size_t i = 0; i < sizeof(required_keys) / sizeof(required_keys[0]); i++) {
        if (!s->key_line[required_keys[i]])
            missing[n++] = key_names[required_keys[i]];
    }
    if (n) {
        const char *who = s->cur_label[0] ? s->cur_label : "(unnamed)";
        if (n == 1)
            report(s, g->line, "guest '%s' needs '%s ='", who, missing[0]);
        else if (n == 2)
            report(s, g->line, "guest '%s' needs '%s =' and '%s ='", who, missing[0], missing[1]);
        else
            report(s, g->line, "guest '%s' needs '%s =', '%s =' and '%s ='", who, missing[0],
                   missing[1], missing[2]);
        s->cur_bad = true;
    }
    if ((g->ndisks || g->nnets) && g->io == GUEST_IO_SIDECORE && !s->key_bad[KEY_IO] &&
        s->limits->no_sidecores) {
        /* At the io line if io = sidecore is written; the default is the
         * section's as a whole. */
        unsigned line = s->key_line[KEY_IO] ? s->key_line[KEY_IO] : g->line;
        report(s, line,
               "guest '%s' needs a sidecore for its %s, but [hypervisor] sidecores = 0 "
               "(write 'io = trap')",
               s->cur_label[0] ? s->cur_label : "(unnamed)", g->ndisks ? "disk" : "network");
        s->cur_bad = true;
    }
    /* The virtio console is polled by a sidecore; trap mode has none. */
    if (g->virtio_console && !s->key_bad[KEY_VIRTIO_CONSOLE] && !s->key_bad[KEY_IO] &&
        (g->io == GUEST_IO_TRAP || s->limits->no_sidecores)) {
        report(s, s->key_line[KEY_VIRTIO_CONSOLE] ? s->key_line[KEY_VIRTIO_CONSOLE] : g->line,
               "guest '%s': virtio_console = on needs io = sidecore and a sidecore",
               s->cur_label[0] ? s->cur_label : "(unnamed)");
        s->cur_bad = true;
    }
    if (!s->cur_bad && !check_guest_switches(s))
        s->cur_bad = true;
    if (s->cur_bad)
        return;

    struct guest_config_set *out = s->out;
    if (out->count >= GUEST_MAX) {
        report(s, g->line, "guest '%s' is one too many: at most %u guests", g->name,
               (unsigned)GUEST_MAX);
        return;
    }
    if (g->cpus > s->cpus_left || g->memory > s->memory_left) {
        char want[32], left[32];
        format_exact_size(want, sizeof(want), g->memory);
        format_exact_size(left, sizeof(left), s->memory_left);
        report(s, g->line,
               "guest '%s' does not fit: it asks for %u core%s and %s, %u core%s and %s are left",
               g->name, g->cpus, g->cpus == 1 ? "" : "s", want, s->cpus_left,
               s->cpus_left == 1 ? "" : "s", left);
        return;
    }
    s->cpus_left -= g->cpus;
    s->memory_left -= g->memory;
    out->cpus_used += g->cpus;
    out->memory_used += g->memory;
    out->guests[out->count++] = *g;
    join_switches(s, g);
}

static void end_section(struct parse_state *s)
{
    if (s->kind == SECTION_GUEST)
        finish_guest(s);
    s->kind = SECTION_SKIP;
    s->cur_switch = NULL;
}

static void start_guest(struct parse_state *s, unsigned line, const char *name)
{
    memset(&s->cur, 0, sizeof(s->cur));
    memset(s->key_line, 0, sizeof(s->key_line));
    memset(s->key_bad, 0, sizeof(s->key_bad));
    s->cur.line = line;
    s->cur.on_poweroff = GUEST_STOP;
    s->cur.on_reboot = GUEST_RESTART;
    s->cur_bad = false;
    s->kind = SECTION_GUEST;
    guest_label(s, name);

    /* A guest with a bad header is still read, so its other problems are
     * reported in the same pass, but it is never accepted. */
    if (!name[0]) {
        report(s, line, "[guest] needs a name: [guest NAME]");
        s->cur_bad = true;
        return;
    }
    if (!valid_guest_name(name)) {
        report(s, line, "bad guest name '%s' (letters, digits, - and _, at most %u characters)",
               s->cur_label, (unsigned)(GUEST_NAME_LEN - 1));
        s->cur_bad = true;
        return;
    }
    for (unsigned i = 0; i < s->seen_count; i++) {
        if (strcmp(s->seen[i].name, name) == 0) {
            report(s, line, "duplicate guest name '%s' (first at line %u)", name, s->seen[i].line);
            s->cur_bad = true;
            return;
        }
    }
    for (unsigned i = 0; i < s->out->count; i++) {
        if (strcmp(s->out->guests[i].name, name) == 0) {
            report(s, line, "duplicate guest name '%s' (first at line %u)", name,
                   s->out->guests[i].line);
            s->cur_bad = true;
            return;
        }
    }
    if (s->seen_count < SEEN_MAX) {
        str_copy(s->seen[s->seen_count].name, name, GUEST_NAME_LEN);
        s->seen[s->seen_count].line = line;
        s->seen_count++;
    }
    str_copy(s->cur.name, name, sizeof(s->cur.name));
}

static void on_section(void *ctx, unsigned line, const char *section, const char *name)
{
    static const char *const sections[] = {"hypervisor", "guest", "switch"};
    struct parse_state *s = ctx;

    end_section(s);
    if (strcmp(section, "hypervisor") == 0) {
        s->kind = SECTION_HYPERVISOR;
        return;
    }
    if (strcmp(section, "guest") == 0) {
        start_guest(s, line, name);
        return;
    }
    if (strcmp(section, "switch") == 0) {
        start_switch(s, line, name);
        return;
    }
    char shown[QUOTE_MAX];
    quote(shown, sizeof(shown), section);
    const char *guess = closest(section, sections, 3);
    if (guess && (strcmp(guess, "guest") == 0 || strcmp(guess, "switch") == 0))
        report(s, line, "unknown section [%s] (did you mean [%s NAME]?)", shown, guess);
    else if (guess)
        report(s, line, "unknown section [%s] (did you mean [%s]?)", shown, guess);
    else
        report(s, line,
               "unknown section [%s] (sections are [hypervisor], [guest NAME] and "
               "[switch NAME])",
               shown);
}

/*
 * Checks the boot-file path `path` named on line it (whose value may say
 * more, as "ram:PATH" does); false (after a message) if it is wrong. *size is
 * the file's size, or UINT64_MAX when unknown.
 */
static bool check_boot_path(struct parse_state *s, const struct ini_item *it, const char *path,
                            uint64_t *size)
{
    char shown[QUOTE_MAX];
    size_t n = strlen(path);

    *size = UINT64_MAX; /* unknown unless the callback says */
    quote(shown, sizeof(shown), it->value);
    if (n >= GUEST_PATH_LEN) {
        report(s, it->line, "%s = %s: path too long (%zu characters, at most %u)", it->key, shown,
               n, (unsigned)(GUEST_PATH_LEN - 1));
        return false;
    }
    if (path_escapes(path)) {
        report(s, it->line, "%s = %s: the path must stay below the config file's directory",
               it->key, shown);
        return false;
    }
    if (s->limits->file_exists && !s->limits->file_exists(s->limits->ctx, path, size)) {
        report(s, it->line, "%s = %s: no such file among the boot files", it->key, shown);
        return false;
    }
    return true;
}

/* Checks a kernel or initrd path; false (after a message) if it is wrong. */
static bool check_boot_file(struct parse_state *s, const struct ini_item *it, char *dst,
                            bool must_have_content)
{
    char shown[QUOTE_MAX];
    uint64_t size;

    if (!check_boot_path(s, it, it->value, &size))
        return false;
    if (must_have_content && size == 0) {
        quote(shown, sizeof(shown), it->value);
        report(s, it->line, "%s = %s: the file is empty", it->key, shown);
        return false;
    }
    str_copy(dst, it->value, GUEST_PATH_LEN);
    return true;
}

/* module = PATH [args]: repeatable, up to GUEST_MODULES_MAX. */
static bool parse_module(struct parse_state *s, const struct ini_item *it)
{
    char shown[QUOTE_MAX];
    struct guest_module *m = &s->cur.modules[s->cur.nmodules];
    size_t n = strlen(it->value), path_len = 0;
    uint64_t size;

    quote(shown, sizeof(shown), it->value);
    if (!n) {
        report(s, it->line, "module = : needs a file name");
        return false;
    }
    if (s->cur.nmodules >= GUEST_MODULES_MAX) {
        report(s, it->line, "module = %s: more than %u modules", shown,
               (unsigned)GUEST_MODULES_MAX);
        return false;
    }
    if (n >= sizeof(m->string)) {
        report(s, it->line, "module = %s: too long (%zu characters, at most %zu)", shown, n,
               sizeof(m->string) - 1);
        return false;
    }
    while (path_len < n && it->value[path_len] != ' ' && it->value[path_len] != '\t')
        path_len++;
    if (path_len >= GUEST_PATH_LEN) {
        report(s, it->line, "module = %s: path too long (%zu characters, at most %u)", shown,
               path_len, (unsigned)(GUEST_PATH_LEN - 1));
        return false;
    }
    memcpy(m->path, it->value, path_len);
    m->path[path_len] = 0;
    if (!check_boot_path(s, it, m->path, &size))
        return false;
    str_copy(m->string, it->value, sizeof(m->string));
    s->cur.nmodules++;
    return true;
}

static bool parse_cpus(struct parse_state *s, const struct ini_item *it)
{
    char shown[QUOTE_MAX];
    uint64_t v;

    quote(shown, sizeof(shown), it->value);
    if (!str_to_u64(it->value, &v)) {
        report(s, it->line, "cpus = %s: not a number", shown);
        return false;
    }
    if (v < 1 || v > GUEST_MAX_VCPUS) {
        report(s, it->line, "cpus = %s: must be 1 to %u", shown, (unsigned)GUEST_MAX_VCPUS);
        return false;
    }
    s->cur.cpus = (uint32_t)v;
    return true;
}

static bool parse_memory(struct parse_state *s, const struct ini_item *it)
{
    char shown[QUOTE_MAX], size[32];
    uint64_t v;

    quote(shown, sizeof(shown), it->value);
    if (!str_to_size(it->value, &v)) {
        report(s, it->line, "memory = %s: not a size (write it like 256M, 1G or 65536K)", shown);
        return false;
    }
    if (v % GUEST_MEMORY_ALIGN) {
        uint64_t up = v <= UINT64_MAX - GUEST_MEMORY_ALIGN
                          ? (v / GUEST_MEMORY_ALIGN + 1) * GUEST_MEMORY_ALIGN
                          : v / GUEST_MEMORY_ALIGN * GUEST_MEMORY_ALIGN;
        if (up < GUEST_MEMORY_MIN)
            up = GUEST_MEMORY_MIN;
        format_exact_size(size, sizeof(size), up);
        report(s, it->line, "memory = %s: not a multiple of 2M (try %s)", shown, size);
        return false;
    }
    if (v < GUEST_MEMORY_MIN) {
        format_exact_size(size, sizeof(size), GUEST_MEMORY_MIN);
        report(s, it->line, "memory = %s: less than the minimum of %s", shown, size);
        return false;
    }
    s->cur.memory = v;
    return true;
}

static bool parse_on_event(struct parse_state *s, const struct ini_item *it,
                           enum guest_on_event *dst)
{
    char shown[QUOTE_MAX];

    if (strcmp(it->value, "stop") == 0) {
        *dst = GUEST_STOP;
        return true;
    }
    if (strcmp(it->value, "restart") == 0) {
        *dst = GUEST_RESTART;
        return true;
    }
    quote(shown, sizeof(shown), it->value);
    report(s, it->line, "%s = %s: must be 'stop' or 'restart'", it->key, shown);
    return false;
}

/* A RAM disk image is served in 512-byte sectors, so its size must be a
 * whole number of them, and a disk of none is no disk. */
static bool check_ram_disk(struct parse_state *s, const struct ini_item *it)
{
    char shown[QUOTE_MAX];
    uint64_t size;

    if (!check_boot_path(s, it, s->cur.disks[s->cur.ndisks].path, &size))
        return false;
    if (size == UINT64_MAX)
        return true; /* unknown: checked again when the disk is set up */
    quote(shown, sizeof(shown), it->value);
    if (size == 0) {
        report(s, it->line,
               "disk = %s: the file is empty (a disk image is a non-zero multiple of 512 bytes)",
               shown);
        return false;
    }
    if (size % DISK_SECTOR) {
        report(s, it->line, "disk = %s: the file is %lu bytes, not a multiple of 512", shown,
               (unsigned long)size);
        return false;
    }
    return true;
}

/* The remembered NVMe disk as a struct disk_spec, for disk_spec_overlaps(). */
static struct disk_spec seen_disk_spec(const struct seen_disk *d)
{
    struct disk_spec spec;

    memset(&spec, 0, sizeof(spec));
    spec.kind = DISK_NVME;
    spec.ctrl = d->ctrl;
    spec.nsid = d->nsid;
    spec.whole = d->whole;
    spec.start = d->start;
    spec.length = d->length;
    return spec;
}

/* False (after a message) if the current guest's NVMe disk shares blocks
 * with the disk of an earlier section; otherwise remembers it. */
static bool check_disk_overlap(struct parse_state *s, const struct ini_item *it)
{
    const struct disk_spec *d = &s->cur.disks[s->cur.ndisks];
    const char *who = NULL;
    unsigned line = 0;
    struct disk_spec other;

    for (unsigned i = 0; i < s->seen_disk_count && !who; i++) {
        other = seen_disk_spec(&s->seen_disks[i]);
        if (disk_spec_overlaps(d, &other)) {
            who = s->seen_disks[i].guest;
            line = s->seen_disks[i].line;
        }
    }
    /* Accepted guests past the table's end. */
    for (unsigned i = 0; i < s->out->count && !who; i++) {
        const struct guest_config *g = &s->out->guests[i];
        for (unsigned k = 0; k < g->ndisks && !who; k++) {
            if (disk_spec_overlaps(d, &g->disks[k])) {
                other = g->disks[k];
                who = g->name;
                line = g->line;
            }
        }
    }
    if (who) {
        char shown[QUOTE_MAX], theirs[80];
        quote(shown, sizeof(shown), it->value);
        disk_spec_format(&other, theirs, sizeof(theirs));
        report(s, it->line, "disk = %s: overlaps %s of [guest%s%s] at line %u", shown, theirs,
               who[0] ? " " : "", who, line);
        return false;
    }
    if (s->seen_disk_count < SEEN_DISKS_MAX) {
        struct seen_disk *sd = &s->seen_disks[s->seen_disk_count++];
        sd->ctrl = d->ctrl;
        sd->nsid = d->nsid;
        sd->whole = d->whole;
        sd->start = d->start;
        sd->length = d->length;
        sd->line = s->cur.line;
        str_copy(sd->guest, s->cur_label, sizeof(sd->guest));
    }
    return true;
}

static bool parse_disk(struct parse_state *s, const struct ini_item *it)
{
    char shown[QUOTE_MAX], why[160];

    struct disk_spec *d = &s->cur.disks[s->cur.ndisks];

    if (!it->value[0])
        return true; /* "disk =" says: none */
    quote(shown, sizeof(shown), it->value);
    if (s->cur.ndisks == GUEST_DISKS_MAX) {
        report(s, it->line, "disk = %s: one disk too many (at most %u a guest)", shown,
               (unsigned)GUEST_DISKS_MAX);
        return false;
    }
    if (!disk_spec_parse(it->value, d, why, sizeof(why))) {
        report(s, it->line, "disk = %s: %s", shown, why);
        d->kind = DISK_NONE;
        return false;
    }
    bool ok = d->kind == DISK_RAM    ? check_ram_disk(s, it)
              : d->kind == DISK_NVME ? check_disk_overlap(s, it)
                                     : true; /* a null disk stores nothing */
    if (ok)
        s->cur.ndisks++;
    else
        d->kind = DISK_NONE;
    return ok;
}

static bool parse_disk_queues(struct parse_state *s, const struct ini_item *it)
{
    char shown[QUOTE_MAX];
    uint64_t v;

    quote(shown, sizeof(shown), it->value);
    if (!str_to_u64(it->value, &v)) {
        report(s, it->line, "disk_queues = %s: not a number", shown);
        return false;
    }
    if (v < 1 || v > GUEST_DISK_QUEUES_MAX) {
        report(s, it->line, "disk_queues = %s: must be 1 to %u", shown,
               (unsigned)GUEST_DISK_QUEUES_MAX);
        return false;
    }
    s->cur.disk_queues = (uint32_t)v;
    return true;
}

static bool parse_io(struct parse_state *s, const struct ini_item *it)
{
    char shown[QUOTE_MAX];

    if (strcmp(it->value, "sidecore") == 0) {
        s->cur.io = GUEST_IO_SIDECORE;
        return true;
    }
    if (strcmp(it->value, "trap") == 0) {
        s->cur.io = GUEST_IO_TRAP;
        return true;
    }
    quote(shown, sizeof(shown), it->value);
    report(s, it->line, "io = %s: must be 'sidecore' or 'trap'", shown);
    return false;
}

static bool parse_coalescing(struct parse_state *s, const struct ini_item *it)
{
    char shown[QUOTE_MAX];

    if (strcmp(it->value, "adaptive") == 0 || strcmp(it->value, "off") == 0) {
        s->cur.coalescing_off = strcmp(it->value, "off") == 0;
        return true;
    }
    quote(shown, sizeof(shown), it->value);
    report(s, it->line, "interrupt_coalescing = %s: must be 'adaptive' or 'off'", shown);
    return false;
}

/* halt = hypervisor (the default) | guest: see guest_config.h. */
static bool parse_halt(struct parse_state *s, const struct ini_item *it)
{
    char shown[QUOTE_MAX];

    if (strcmp(it->value, "hypervisor") == 0 || strcmp(it->value, "guest") == 0) {
        s->cur.halt_in_guest = strcmp(it->value, "guest") == 0;
        return true;
    }
    quote(shown, sizeof(shown), it->value);
    report(s, it->line, "halt = %s: must be 'hypervisor' or 'guest'", shown);
    return false;
}

/* virtio_console = off (the default) | on: see guest_config.h. */
static bool parse_virtio_console(struct parse_state *s, const struct ini_item *it)
{
    char shown[QUOTE_MAX];

    if (strcmp(it->value, "on") == 0 || strcmp(it->value, "off") == 0) {
        s->cur.virtio_console = strcmp(it->value, "on") == 0;
        return true;
    }
    quote(shown, sizeof(shown), it->value);
    report(s, it->line, "virtio_console = %s: must be 'on' or 'off'", shown);
    return false;
}

static bool parse_value(struct parse_state *s, enum key_id key, const struct ini_item *it)
{
    switch (key) {
    case KEY_CPUS: return parse_cpus(s, it);
    case KEY_MEMORY: return parse_memory(s, it);
    case KEY_KERNEL:
        if (!it->value[0]) {
            report(s, it->line, "kernel = : needs a file name");
            return false;
        }
        return check_boot_file(s, it, s->cur.kernel, true);
    case KEY_INITRD:
        if (!it->value[0])
            return true; /* "initrd =" says: none */
        return check_boot_file(s, it, s->cur.initrd, false);
    case KEY_CMDLINE: {
        size_t n = strlen(it->value);
        if (n >= GUEST_CMDLINE_LEN) {
            report(s, it->line, "cmdline is too long (%zu characters, at most %u)", n,
                   (unsigned)(GUEST_CMDLINE_LEN - 1));
            return false;
        }
        str_copy(s->cur.cmdline, it->value, sizeof(s->cur.cmdline));
        return true;
    }
    case KEY_ON_POWEROFF: return parse_on_event(s, it, &s->cur.on_poweroff);
    case KEY_ON_REBOOT: return parse_on_event(s, it, &s->cur.on_reboot);
    case KEY_DISK: return parse_disk(s, it);
    case KEY_DISK_QUEUES: return parse_disk_queues(s, it);
    case KEY_IO: return parse_io(s, it);
    case KEY_INTERRUPT_COALESCING: return parse_coalescing(s, it);
    case KEY_MODULE: return parse_module(s, it);
    case KEY_NET: return parse_net(s, it);
    case KEY_NET_QUEUES: return parse_net_queues(s, it);
    case KEY_HALT: return parse_halt(s, it);
    case KEY_VIRTIO_CONSOLE: return parse_virtio_console(s, it);
    case KEY_COUNT: break;
    }
    return false;
}

static void on_guest_item(struct parse_state *s, const struct ini_item *it)
{
    char shown[QUOTE_MAX];
    enum key_id key = KEY_COUNT;

    for (unsigned i = 0; i < KEY_COUNT; i++) {
        if (strcmp(it->key, key_names[i]) == 0)
            key = (enum key_id)i;
    }
    if (key == KEY_COUNT) {
        const char *guess = closest(it->key, key_names, KEY_COUNT);
        quote(shown, sizeof(shown), it->key);
        if (guess)
            report(s, it->line, "unknown key '%s' in [guest %s] (did you mean '%s'?)", shown,
                   s->cur_label, guess);
        else
            report(s, it->line, "unknown key '%s' in [guest %s]", shown, s->cur_label);
        s->cur_bad = true;
        return;
    }
    if (s->key_line[key] && key != KEY_DISK && key != KEY_MODULE && key != KEY_NET) {
        report(s, it->line, "'%s' given twice in [guest %s] (first at line %u)", key_names[key],
               s->cur_label, s->key_line[key]);
        s->cur_bad = true;
        return;
    }
    s->key_line[key] = it->line;
    if (!parse_value(s, key, it)) {
        s->key_bad[key] = true;
        s->cur_bad = true;
    }
}

static void on_item(void *ctx, const struct ini_item *it)
{
    struct parse_state *s = ctx;
    char shown[QUOTE_MAX];

    switch (s->kind) {
    case SECTION_GUEST: on_guest_item(s, it); return;
    case SECTION_SWITCH: on_switch_item(s, it); return;
    case SECTION_NONE:
        quote(shown, sizeof(shown), it->key);
        report(s, it->line,
               "key '%s' before any section (keys go under [hypervisor], [guest NAME] or "
               "[switch NAME])",
               shown);
        return;
    case SECTION_HYPERVISOR:
    case SECTION_SKIP: return;
    }
}

/* Whether line `line` of the text is a section header (starts with '['). */
static bool line_is_header(struct parse_state *s, unsigned line)
{
    if (line < s->cursor_line) { /* never happens: errors come in line order */
        s->cursor_line = 1;
        s->cursor_pos = 0;
    }
    while (s->cursor_line < line && s->cursor_pos < s->len) {
        const char *nl = memchr(s->text + s->cursor_pos, '\n', s->len - s->cursor_pos);
        if (!nl) {
            s->cursor_pos = s->len;
            break;
        }
        s->cursor_pos = (size_t)(nl - s->text) + 1;
        s->cursor_line++;
    }
    size_t p = s->cursor_pos;
    while (p < s->len && (s->text[p] == ' ' || s->text[p] == '\t' || s->text[p] == '\r'))
        p++;
    return p < s->len && s->text[p] == '[';
}

static void on_syntax_error(void *ctx, unsigned line, const char *message)
{
    struct parse_state *s = ctx;

    s->out->errors++;
    if (s->err)
        s->err(s->err_ctx, line, message);
    if (line_is_header(s, line)) {
        /* The tokenizer keeps the previous section's name for the lines
         * that follow a header it rejected; they do not belong to it. */
        end_section(s);
    } else if (s->kind == SECTION_GUEST) {
        s->cur_bad = true;
    }
}

void guest_config_parse(const char *text, size_t len, const struct guest_config_limits *limits,
                        struct guest_config_set *out, guest_config_error_fn err, void *err_ctx)
{
    static const struct guest_config_limits no_room;
    struct parse_state s; /* about 6 KiB: fine on a 32 KiB CPU stack */
    struct ini_handlers handlers = {
        .section = on_section, .item = on_item, .error = on_syntax_error, .ctx = &s};

    memset(out, 0, sizeof(*out));
    memset(&s, 0, sizeof(s));
    s.limits = limits ? limits : &no_room;
    s.out = out;
    s.err = err;
    s.err_ctx = err_ctx;
    s.text = text;
    s.len = text ? len : 0;
    s.cursor_line = 1;
    s.kind = SECTION_NONE;
    s.cpus_left = s.limits->cpus_available;
    s.memory_left = s.limits->memory_available;
    if (text)
        ini_parse(text, len, &handlers);
    end_section(&s);
}

const char *guest_on_event_name(enum guest_on_event ev)
{
    return ev == GUEST_RESTART ? "restart" : "stop";
}

const char *guest_io_mode_name(enum guest_io_mode mode)
{
    return mode == GUEST_IO_TRAP ? "trap" : "sidecore";
}

uint32_t guest_net_queues(const struct guest_config *g)
{
    if (g->net_queues)
        return g->net_queues;
    return g->cpus < GUEST_NET_QUEUES_MAX ? (g->cpus ? g->cpus : 1) : GUEST_NET_QUEUES_MAX;
}

uint32_t guest_disk_queues(const struct guest_config *g)
{
    if (g->disk_queues)
        return g->disk_queues;
    return g->cpus < GUEST_DISK_QUEUES_MAX ? (g->cpus ? g->cpus : 1) : GUEST_DISK_QUEUES_MAX;
}
