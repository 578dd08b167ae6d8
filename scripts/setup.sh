#!/usr/bin/env bash
# Sets up a TinyFormer checkout on Debian: the C toolchains (host gcc,
# arm-none-eabi-gcc with newlib, qemu-system-arm, clang-format for the C
# sources' formatting), the npm packages from the
# lockfile, and the compiled CLI. Safe to run again: it installs only what is
# missing.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(gcc gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm clang-format)
missing=()
for package in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]} (about 90 s)"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "setup: installing npm packages"
# @tensorflow/tfjs-node is optional: its native library downloads from outside
# the npm registry, and where that fails npm skips it (the WebAssembly
# backend is used instead).
npm ci --no-audit --no-fund

echo "setup: compiling"
npm run --silent build
echo "setup: done. Try: ./bin/tinyformer.js doctor"
