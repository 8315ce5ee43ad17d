#!/usr/bin/env bash
# scripts/deps.sh - install the Debian 12 packages plantrack needs, only those
# that are missing. apt-get update runs only when something has to be installed.
# One progress line per step; apt's own chatter goes to a log shown on failure.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libevent-dev libjansson-dev libpq-dev uuid-dev libssl-dev
  postgresql-15 postgresql-contrib
  python3 wrk clang libclang-rt-14-dev
  haproxy nginx
  systemd
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  case "$status" in
    ii*) ;;
    *) missing+=("$p") ;;
  esac
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "deps: missing ${missing[*]}; run as root (or install sudo) to install them" >&2
    exit 1
  fi
fi

log=$(mktemp /tmp/plantrack-deps.XXXXXX)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive

echo "deps: missing ${missing[*]}"
echo "deps: apt-get update"
if ! "${sudo[@]}" apt-get update -qq >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  echo "deps: apt-get update failed" >&2
  exit 1
fi
echo "deps: apt-get install ${#missing[@]} package(s)"
if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
     --no-install-recommends -o Dpkg::Options::=--force-confdef \
     -o Dpkg::Options::=--force-confold "${missing[@]}" >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  echo "deps: apt-get install failed" >&2
  exit 1
fi
echo "deps: installed ${missing[*]}"
