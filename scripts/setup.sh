#!/usr/bin/env bash
# Sets up a TinyFormer checkout on Debian: the C toolchains (host gcc,
# arm-none-eabi-gcc with newlib, qemu-system-arm, clang-format for the C
# sources' formatting), nginx (for the remote cache tests), redis-server (for
# the job queue tests), Chromium (for the
# report page's browser test), the npm packages from the
# lockfile, and the compiled CLI. Safe to run again: it installs only what is
# missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# nginx: the remote cache tests serve a cache with it (deploy/nginx-remote-cache.conf).
# redis-server: the job queue tests and benchmark start their own on 127.0.0.1.
# chromium: the report test opens report.html in it, headless.
apt_packages=(gcc gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm clang-format nginx redis-server chromium)
missing=()
for package in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]} (a few minutes)"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  # Installing nginx or redis-server would start it as a system service (on
  # ports 80 and 6379), which nothing here needs (the tests start their own on
  # 127.0.0.1 on free ports) and which fails the install where the port is
  # taken: deny service starts meanwhile.
  deny_starts=()
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    deny_starts=(/usr/sbin/policy-rc.d)
    printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${sudo_cmd[@]}" chmod +x /usr/sbin/policy-rc.d
  fi
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if ((${#deny_starts[@]} > 0)); then "${sudo_cmd[@]}" rm -f "${deny_starts[@]}"; fi
fi

echo "setup: installing npm packages"
# @tensorflow/tfjs-node is optional: its native library downloads from outside
# the npm registry, and where that fails npm skips it (the WebAssembly
# backend is used instead).
npm ci --no-audit --no-fund

echo "setup: compiling"
npm run --silent build
echo "setup: done. Try: ./bin/tinyformer.js doctor"
