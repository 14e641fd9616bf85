#!/usr/bin/env bash
# Installs the Debian packages Strata needs: the Docker engine and compose, Redis (tests),
# debootstrap (the base image, built with no registry), graphviz (stack pictures), chromium
# (the test that loads an agent's marimo UI in a real browser).
set -euo pipefail
packages=(docker.io docker-compose redis-server debootstrap graphviz chromium systemd)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "strata: missing Debian packages: ${missing[*]}" >&2
  echo "        install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
