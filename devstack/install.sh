#!/usr/bin/env bash
# Installs everything KubeMedic's local stack and tests need on a fresh Debian machine:
# Debian's Prometheus, Alertmanager, PostgreSQL, openssl and Chromium (the Web UI test drives it); Node 24;
# the npm packages; the Go-built servers.
# Safe to run again: each step skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

sudo=""
[[ "$(id -u)" -ne 0 ]] && sudo="sudo"
missing=()
# zsh and fish: the CLI's completion tests parse its scripts with each shell. postgresql: the
# production-shaped Temporal server's persistence (the stack runs its own cluster, as user postgres).
for package in prometheus prometheus-alertmanager openssl chromium zsh fish postgresql; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  echo "install: Debian packages ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The packages start system services where systemd runs; the stack runs its own servers
  # on the same ports, so those services are stopped and kept off.
  if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    $sudo systemctl disable --now prometheus prometheus-alertmanager postgresql >/dev/null 2>&1 || true
  fi
fi

# Node 24 LTS for everything below (npm ci included): the machine's own if it is new enough, else
# the npm registry's binary, cached and put first on this script's PATH (devstack/node.sh).
source devstack/node.sh

echo "install: npm packages"
npm ci --no-audit --no-fund --loglevel=error

echo "install: Go-built servers (cache ${KUBEMEDIC_CACHE:-$HOME/.cache/kubemedic})"
bash devstack/build.sh

echo "install: done in $((SECONDS - start))s"
