#!/usr/bin/env bash
# scripts/deps.sh - install the Debian 12 packages plantrack needs, only those
# that are missing. apt-get update runs only when something has to be installed.
# One progress line per step; apt's own chatter goes to a log shown on failure.
# Then the npm packages of package.json (puppeteer-core, @redocly/cli,
# swagger-ui-dist, versions pinned in package-lock.json) with `npm ci` when
# node_modules is missing or older than the lockfile; never a browser download
# (the browser tests drive Debian's chromium).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

PACKAGES=(
  build-essential cmake pkg-config
  libevent-dev libjansson-dev libpq-dev uuid-dev libssl-dev libxlsxwriter-dev
  postgresql-15 postgresql-contrib
  python3 wrk clang libclang-rt-14-dev
  haproxy nginx
  libreoffice-calc-nogui
  systemd
  dpkg-dev debhelper fakeroot lintian
  chromium fonts-wqy-zenhei
)
# Node.js for the browser tests and the OpenAPI lint: the machines come with it
# (Node 20); Debian's own packages only where it is missing.
if ! command -v node >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  case "$status" in
    ii*) ;;
    *) missing+=("$p") ;;
  esac
done

npm_packages() {
  local stamp=$root/node_modules/.package-lock.json
  if [ -f "$stamp" ] && [ ! "$root/package-lock.json" -nt "$stamp" ]; then
    echo "deps: npm packages present"
    return 0
  fi
  echo "deps: npm ci (package-lock.json)"
  local nlog
  nlog=$(mktemp /tmp/plantrack-npm.XXXXXX)
  if ! (cd "$root" && PUPPETEER_SKIP_DOWNLOAD=1 SCARF_ANALYTICS=false npm ci --ignore-scripts \
          --no-audit --no-fund >"$nlog" 2>&1); then
    tail -n 20 "$nlog" >&2
    rm -f "$nlog"
    echo "deps: npm ci failed" >&2
    return 1
  fi
  rm -f "$nlog"
  echo "deps: npm packages installed"
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages present"
  npm_packages
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
npm_packages
