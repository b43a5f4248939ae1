#!/usr/bin/env bash
# Lists the files a Sidecore config names (kernel, initrd, module = PATH
# [args], disk = ram:...),
# one path per line, relative to the config file's directory.
set -euo pipefail
cfg=$1
sed -e 's/#.*//' "$cfg" | while IFS= read -r line; do
    key=$(printf '%s' "$line" | sed -n 's/^[[:space:]]*\([a-z_]*\)[[:space:]]*=.*/\1/p')
    val=$(printf '%s' "$line" | sed -n 's/^[^=]*=[[:space:]]*//p' | sed 's/[[:space:]]*$//')
    case "$key" in
    kernel | initrd) [ -n "$val" ] && printf '%s\n' "$val" ;;
    module) path=${val%%[[:space:]]*}; [ -n "$path" ] && printf '%s\n' "$path" ;;
    disk)
        case "$val" in
        ram:*) path=${val#ram:}; path=$(printf '%s' "$path" | sed 's/^[[:space:]]*//'); [ -n "$path" ] && printf '%s\n' "$path" ;;
        esac
        ;;
    esac
done | sort -u
