#!/usr/bin/env bash
# Decodes every guest ACPI table with iasl (acpica-tools) and fails on any
# error, warning or checksum complaint. A small host program, compiled here
# from vmm/acpi/ with the embedded driver below, builds the tables for
# several guest shapes (vCPU counts, with and without a PCI bus), follows
# RSDP -> XSDT -> FADT -> FACS/DSDT as a guest would, and writes each table
# to its own file; `iasl -d` then decodes each one, and the DSDT's
# disassembly is compiled back, which catches AML that decodes but is
# malformed. Ends with "acpi-iasl: N passed, N failed".
# Usage: tools/check-acpi-iasl.sh [BUILD_DIR]   (default: build)
set -uo pipefail
build=${1:-build}
out=$build/acpi-iasl
rm -rf "$out"
mkdir -p "$out"
if ! command -v iasl >/dev/null; then
    echo "acpi-iasl: iasl not found (install acpica-tools)"
    exit 1
fi

cat >"$out/dump.c" <<'EOF'
/* Writes each table reachable from the guest RSDP to DIR/NAME/SIG.dat. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vmm/acpi/guest_acpi.h"

#define BASE 0xe0000u
static uint8_t mem[0x10000];

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static int dump(const char *dir, const char *name, uint64_t gpa, uint32_t len)
{
    if (gpa < BASE || gpa - BASE + len > sizeof(mem)) {
        fprintf(stderr, "%s: table at 0x%llx outside the buffer\n", name, (unsigned long long)gpa);
        return 1;
    }
    char path[256];
    snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(mem + (gpa - BASE), 1, len, f) != len) {
        perror(path);
        return 1;
    }
    fclose(f);
    return 0;
}

static int one(const char *root, const char *name, struct guest_acpi_config cfg)
{
    char dir[200];
    snprintf(dir, sizeof(dir), "%s/%s", root, name);
    mkdir(dir, 0755);
    memset(mem, 0xa5, sizeof(mem));
    uint64_t rsdp;
    size_t used = guest_acpi_build(&cfg, mem, sizeof(mem), BASE, &rsdp);
    if (!used) {
        fprintf(stderr, "%s: guest_acpi_build failed\n", name);
        return 1;
    }
    const uint8_t *r = mem + (rsdp - BASE);
    int bad = dump(dir, "RSDP", rsdp, rd32(r + 20));
    char path[256];
    snprintf(path, sizeof(path), "%s/RSDP.asl", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    fprintf(f, "[0008] Signature : \"%.8s\"\n[0001] Checksum : 00\n"
               "[0006] Oem ID : \"%.6s\"\n[0001] Revision : %02X\n"
               "[0004] RSDT Address : %08X\n[0004] Length : %08X\n"
               "[0008] XSDT Address : %016llX\n[0001] Extended Checksum : 00\n"
               "[0003] Reserved : %02X%02X%02X\n",
            (const char *)r, (const char *)r + 9, r[15], rd32(r + 16), rd32(r + 20),
            (unsigned long long)rd64(r + 24), r[33], r[34], r[35]);
    fclose(f);
    uint64_t xsdt = rd64(r + 24);
    const uint8_t *x = mem + (xsdt - BASE);
    uint32_t xlen = rd32(x + 4);
    bad |= dump(dir, "XSDT", xsdt, xlen);
    for (uint32_t off = 36; off + 8 <= xlen; off += 8) {
        uint64_t t = rd64(x + off);
        char sig[5] = {0};
        memcpy(sig, mem + (t - BASE), 4);
        bad |= dump(dir, sig, t, rd32(mem + (t - BASE) + 4));
        if (!strcmp(sig, "FACP")) {
            const uint8_t *fadt = mem + (t - BASE);
            /* FIRMWARE_CTRL: the builder leaves X_FIRMWARE_CTRL 0 */
            uint64_t facs = rd64(fadt + 132) ? rd64(fadt + 132) : rd32(fadt + 36);
            uint64_t dsdt = rd64(fadt + 140);
            bad |= dump(dir, "FACS", facs, rd32(mem + (facs - BASE) + 4));
            bad |= dump(dir, "DSDT", dsdt, rd32(mem + (dsdt - BASE) + 4));
        }
    }
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    struct guest_acpi_pci pci = {.ecam_gpa = 0xe0000000u, .bus_first = 0, .bus_last = 255,
                                 .mmio_base = 0xc0000000u, .mmio_size = 0x20000000u};
    struct guest_acpi_pci pci2 = {.ecam_gpa = 0xb0000000u, .bus_first = 0, .bus_last = 15,
                                  .mmio_base = 0xd0000000u, .mmio_size = 0x10000000u};
    int bad = one(argv[1], "vcpu1", (struct guest_acpi_config){.vcpus = 1});
    bad |= one(argv[1], "vcpu2-pci", (struct guest_acpi_config){2, true, pci});
    bad |= one(argv[1], "vcpu64-pci", (struct guest_acpi_config){64, true, pci2});
    bad |= one(argv[1], "vcpu254", (struct guest_acpi_config){.vcpus = 254});
    return bad;
}
EOF

if ! cc -std=gnu11 -Wall -Wextra -Werror -I. -DSIDECORE_HOST -o "$out/dump" "$out/dump.c" \
    vmm/acpi/*.c; then
    echo "acpi-iasl: 0 passed, 1 failed (the table dumper did not build)"
    exit 1
fi
if ! "$out/dump" "$out"; then
    echo "acpi-iasl: 0 passed, 1 failed (building the tables failed)"
    exit 1
fi

# iasl reports problems in its own output and as comments in the .dsl.
bad_output='Error|Warning|Invalid|Incorrect|should be|Unknown|Could not|\*\*\*\*'
# ...and a compilation is clean only with this summary line.
compiled_clean='Compilation (successful|complete)\. +0 Errors, 0 Warnings, 0 Remarks'
passed=0
failed=0

# Whether iasl's re-encoding of the disassembly matches the table: all of
# it for the FACS (no common header); for the others all but the checksum
# (byte 9) and the compiler ID and revision (28-35), which iasl sets to its
# own, so the checksum differs too. The checksum itself was checked when
# the disassembly was made ("Incorrect checksum" above).
same_bytes() {
    local a=$1 b=$2
    if [ "$3" = header ]; then
        cmp -s <(head -c 9 "$a") <(head -c 9 "$b") &&
            cmp -s <(head -c 28 "$a" | tail -c 18) <(head -c 28 "$b" | tail -c 18) &&
            cmp -s <(tail -c +37 "$a") <(tail -c +37 "$b")
    else
        cmp -s "$a" "$b"
    fi
}

check_table() {
    local dat=$1 dsl=${1%.dat}.dsl log=${1%.dat}.log re=${1%.dat}-re
    local kind=header
    [ "$(basename "$dat")" = FACS.dat ] && kind=whole
    iasl -d "$dat" >"$log" 2>&1
    local rc=$?
    if [ $rc -ne 0 ] || [ ! -s "$dsl" ]; then
        echo "iasl -d exited $rc: $(grep -v '^$' "$log" | tail -n 1)"
    elif grep -Eq "$bad_output" "$log"; then
        grep -E "$bad_output" "$log" | head -n 3
    elif grep -Eq "$bad_output" "$dsl"; then
        grep -E "$bad_output" "$dsl" | head -n 3
    elif ! iasl -p "$re" "$dsl" >"$log.recompile" 2>&1; then
        echo "recompiling the disassembly failed: $(grep -E 'Error|Warning' "$log.recompile" | head -n 3)"
    elif ! grep -Eq "$compiled_clean" "$log.recompile"; then
        echo "recompiling: $(grep -E 'Compilation|Error|Warning|Remark' "$log.recompile" | head -n 4)"
    elif ! same_bytes "$dat" "$re.aml" $kind; then
        echo "iasl re-encodes the disassembly differently (cmp $dat $re.aml)"
    fi
}

# iasl (20200925 at least) refuses to disassemble an RSDP file, even one it
# compiled itself, so the RSDP is checked the other way round: the driver
# describes it in iasl's data table language with the checksums left 0,
# iasl compiles that (computing both checksums) and the result must be
# byte for byte the RSDP that was built.
check_rsdp() {
    local dat=$1 asl=${1%.dat}.asl log=${1%.dat}.log re=${1%.dat}-re
    if ! iasl -p "$re" "$asl" >"$log" 2>&1; then
        echo "iasl could not compile the RSDP description: $(grep -E 'Error' "$log" | head -n 2)"
    elif ! grep -Eq "$compiled_clean" "$log"; then
        echo "compiling the RSDP description: $(grep -E 'Compilation|Error|Warning|Remark' "$log" | head -n 4)"
    elif ! cmp -s "$dat" "$re.aml"; then
        echo "the RSDP differs from iasl's encoding of its fields (cmp $dat $re.aml)"
    fi
}

for dat in "$out"/*/*.dat; do
    name=${dat#"$out"/}
    if [ "$(basename "$dat")" = RSDP.dat ]; then
        problem=$(check_rsdp "$dat")
    else
        problem=$(check_table "$dat")
    fi
    if [ -n "$problem" ]; then
        failed=$((failed + 1))
        echo "FAIL $name: $problem"
    else
        passed=$((passed + 1))
        echo "ok   $name"
    fi
done
# A control: the same check must notice a table with a wrong checksum, or
# every "ok" above means nothing.
control=$out/control
mkdir -p "$control"
first=$(ls "$out"/*/APIC.dat | head -n 1)
cp "$first" "$control/APIC.dat"
sum=$(od -An -tu1 -j9 -N1 "$control/APIC.dat" | tr -d ' ')
printf "$(printf '\\%03o' $(((sum + 1) % 256)))" |
    dd of="$control/APIC.dat" bs=1 seek=9 conv=notrunc 2>/dev/null
if [ -n "$(check_table "$control/APIC.dat")" ]; then
    passed=$((passed + 1))
    echo "ok   control: a corrupted checksum is reported"
else
    failed=$((failed + 1))
    echo "FAIL control: a corrupted checksum went unnoticed"
fi
echo "acpi-iasl: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
