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
};

static const enum key_id required_keys[] = {KEY_CPUS, KEY_MEMORY, KEY_KERNEL};

enum section_kind {
    SECTION_NONE,       /* before the first header */
    SECTION_HYPERVISOR, /* read by kernel/config/hv_config.c */
    SECTION_GUEST,
    SECTION_SKIP, /* unknown, or a header the tokenizer rejected */
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
    if (g->ndisks && g->io == GUEST_IO_SIDECORE && !s->key_bad[KEY_IO] && s->limits->no_sidecores) {
        /* At the io line if io = sidecore is written; the default is the
         * section's as a whole. */
        unsigned line = s->key_line[KEY_IO] ? s->key_line[KEY_IO] : g->line;
        report(s, line,
               "guest '%s' needs a sidecore for its disk, but [hypervisor] sidecores = 0 "
               "(write 'io = trap')",
               s->cur_label[0] ? s->cur_label : "(unnamed)");
        s->cur_bad = true;
    }
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
}

static void end_section(struct parse_state *s)
{
    if (s->kind == SECTION_GUEST)
        finish_guest(s);
    s->kind = SECTION_SKIP;
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
    static const char *const sections[] = {"hypervisor", "guest"};
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
    char shown[QUOTE_MAX];
    quote(shown, sizeof(shown), section);
    const char *guess = closest(section, sections, 2);
    if (guess && strcmp(guess, "guest") == 0)
        report(s, line, "unknown section [%s] (did you mean [guest NAME]?)", shown);
    else if (guess)
        report(s, line, "unknown section [%s] (did you mean [%s]?)", shown, guess);
    else
        report(s, line, "unknown section [%s] (sections are [hypervisor] and [guest NAME])", shown);
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
    if (s->key_line[key] && key != KEY_DISK && key != KEY_MODULE) {
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
    case SECTION_NONE:
        quote(shown, sizeof(shown), it->key);
        report(s, it->line,
               "key '%s' before any section (keys go under [hypervisor] or [guest NAME])", shown);
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

uint32_t guest_disk_queues(const struct guest_config *g)
{
    if (g->disk_queues)
        return g->disk_queues;
    return g->cpus < GUEST_DISK_QUEUES_MAX ? (g->cpus ? g->cpus : 1) : GUEST_DISK_QUEUES_MAX;
}
