#!/usr/bin/env bash
# Makes kernel user-space headers at least as new as native-headers/linux states available to the layout check.
#
#   native-headers/fetch-kernel-headers.sh [MAJOR.MINOR]      (default: the newest "kernel" any Linux recipe names)
#
# When the system's own headers (/usr/include/linux/version.h) are new enough, it does nothing. Otherwise it downloads
# Debian's packaged linux-libc-dev from a suite that carries a newer kernel (trixie-backports, then sid) with apt-get,
# without installing it, and unpacks it into the cache directory the tests look in:
#   ${MINISS_KERNEL_HEADERS:-${XDG_CACHE_HOME:-$HOME/.cache}/miniss/kernel-headers}/usr/include
# The kernel's user-space ABI only grows, so any newer release checks every value stated for an older one.
set -euo pipefail
cd "$(dirname "$0")"

want=${1:-}
if [ -z "$want" ]; then
  want=$(grep -ho '"kernel" *: *"[0-9]*\.[0-9]*"' linux/*.recipe.json | grep -o '[0-9]*\.[0-9]*' | sort -t. -k1,1n -k2,2n | tail -n 1)
fi
[ -n "$want" ] || exit 0
want_code=$(( ${want%%.*} * 65536 + ${want##*.} * 256 ))

code_of() { [ -f "$1" ] && sed -n 's/^#define LINUX_VERSION_CODE \([0-9]*\).*/\1/p' "$1" | head -n 1 || true; }

system_code=$(code_of /usr/include/linux/version.h)
if [ -n "$system_code" ] && [ "$system_code" -ge "$want_code" ]; then
  exit 0
fi

root=${MINISS_KERNEL_HEADERS:-${XDG_CACHE_HOME:-$HOME/.cache}/miniss/kernel-headers}
cached_code=$(code_of "$root/usr/include/linux/version.h")
if [ -n "$cached_code" ] && [ "$cached_code" -ge "$want_code" ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
  echo "fetch-kernel-headers: the system's kernel headers are older than Linux $want and there is no apt-get/dpkg-deb to fetch newer ones;" \
       "install linux-libc-dev $want or newer, or unpack one into $root (MINISS_KERNEL_HEADERS)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/archives/partial"
for suite in trixie-backports sid; do
  echo "deb http://deb.debian.org/debian $suite main" > "$work/sources.list"
  apt_options=(-o "Dir::Etc::sourcelist=$work/sources.list" -o "Dir::Etc::sourceparts=/nonexistent" -o "Dir::State::Lists=$work/lists"
               -o "Dir::Cache::archives=$work/archives" -o "APT::Sandbox::User=root" -o "Acquire::Languages=none"
               -o "Debug::NoLocking=1")
  if ! apt-get -qq "${apt_options[@]}" update >/dev/null 2>"$work/apt.err"; then
    continue
  fi
  if (cd "$work" && apt-get -qq "${apt_options[@]}" download "linux-libc-dev/$suite" >/dev/null 2>>"$work/apt.err"); then
    break
  fi
done

deb=$(ls "$work"/linux-libc-dev_*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
  echo "fetch-kernel-headers: could not download Debian's linux-libc-dev from deb.debian.org (needed: Linux $want or newer; is the archive reachable?): $(tail -n 1 "$work/apt.err" 2>/dev/null)" >&2
  exit 1
fi

mkdir -p "$work/unpacked"
dpkg-deb -x "$deb" "$work/unpacked"
fetched_code=$(code_of "$work/unpacked/usr/include/linux/version.h")
if [ -z "$fetched_code" ] || [ "$fetched_code" -lt "$want_code" ]; then
  echo "fetch-kernel-headers: $(basename "$deb") is older than Linux $want" >&2
  exit 1
fi

rm -rf "$root"
mkdir -p "$(dirname "$root")"
mv "$work/unpacked" "$root"
echo "fetch-kernel-headers: kernel headers from $(basename "$deb") unpacked for the layout check"
