#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fetches the source of Bochs 3.0 for `make bochs` into DIR (argument 1) and
# checks it against tools/bochs/SHA256SUMS; a file already there with the
# right sum is kept, so a second run needs no network.
#
# Where it comes from: Debian trixie's bochs 3.0+dfsg-1, through apt (the only
# network these machines have is Debian's archive). A deb-src entry for trixie
# goes into /etc/apt/sources.list.d/sidecore-trixie-src.sources: source
# entries only, so binary packages keep coming from the system's own suites.
# Only that list is refreshed (`apt-get update` restricted to it, without
# cleaning the others). `apt-get source --download-only` then fails on the
# .dsc, which the archive answers with 404, but it downloads both tarballs
# first; the sums recorded in this repository, not apt, decide whether they
# are good. Nothing reads standard input. Needs root (or sudo -n) only to add
# the entry and refresh its list.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: fetch.sh DIR}
mkdir -p "$dir"
cd "$dir"

sums_ok() {
    sha256sum --quiet --strict -c "$here/SHA256SUMS" >/dev/null 2>&1
}

if sums_ok; then
    exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || {
        echo "bochs: fetching the source needs root (or sudo) for apt" >&2
        exit 1
    }
    sudo=(sudo -n)
fi

list=/etc/apt/sources.list.d/sidecore-trixie-src.sources
entry="# Sidecore (tools/bochs/fetch.sh): the source of trixie's bochs 3.0 for \`make bochs\`.
# deb-src only: binary packages keep coming from the system's own suites.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
if [ "$(cat "$list" 2>/dev/null)" != "$entry" ]; then
    echo "bochs: adding $list (deb-src only)"
    printf '%s\n' "$entry" | "${sudo[@]}" tee "$list" >/dev/null
fi

export DEBIAN_FRONTEND=noninteractive
echo "bochs: refreshing the trixie source list"
"${sudo[@]}" apt-get update -q -o Dir::Etc::sourcelist="$list" -o Dir::Etc::sourceparts=- \
    -o APT::Get::List-Cleanup=0 </dev/null >/dev/null || {
    echo "bochs: apt-get update for $list failed" >&2
    exit 1
}

# Only the files named in SHA256SUMS are wanted; the .dsc's 404 makes
# apt-get fail after it fetched them, so its status says nothing.
version=$(awk '{ print $2 }' "$here/SHA256SUMS" | sed -n 's/^bochs_\(.*\)\.orig\.tar\.xz$/\1/p')
echo "bochs: apt-get source --download-only bochs=${version}-1"
apt-get source -q --download-only "bochs=${version}-1" </dev/null >apt-source.log 2>&1 || true
rm -f ./*.dsc
if ! sums_ok; then
    echo "bochs: the downloaded source does not match tools/bochs/SHA256SUMS:" >&2
    sha256sum -c "$here/SHA256SUMS" >&2 || true
    echo "--- apt-get source said:" >&2
    cat apt-source.log >&2
    exit 1
fi
echo "bochs: source fetched and verified in $dir"
