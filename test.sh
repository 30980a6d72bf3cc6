#!/usr/bin/env bash
# The whole Miniss test suite: restores the pinned Cake tool, checks that the committed bindings match
# native-headers, builds, and runs every test project (curl and wrk drive the HTTP sample; headless Chromium renders
# the HTML report of miniss bench). Prints "N passed, N failed" at the end.
set -euo pipefail
cd "$(dirname "$0")"

missing=()
command -v cc >/dev/null 2>&1 || missing+=(gcc)
ls /usr/lib/*/libclang-*.so.1 /usr/lib/llvm-*/lib/libclang.so.1 >/dev/null 2>&1 || missing+=(libclang1-14)
command -v clang >/dev/null 2>&1 || ls /usr/bin/clang-[0-9]* >/dev/null 2>&1 || missing+=(clang)
[ -f /usr/include/linux/io_uring.h ] || missing+=(linux-libc-dev)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]} (needed by the binding checks, the HTTP client tests and the HTML report check)"
  if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && apt-get install -y -qq "${missing[@]}"; else sudo apt-get update -qq && sudo apt-get install -y -qq "${missing[@]}"; fi
fi

# native-headers/linux states a newer kernel ABI than some distributions' headers: fetch newer ones for the check if needed.
# Without them (no network, no apt) the other tests still run and the io_uring layout check fails naming the script.
if command -v dpkg-deb >/dev/null 2>&1; then native-headers/fetch-kernel-headers.sh || true; fi

dotnet tool restore >/dev/null
dotnet cake --target=Test "$@"
