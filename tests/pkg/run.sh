#!/usr/bin/env bash
# tests/pkg/run.sh [NEW_DEB] - the package upgrade test (tests/pkg/test_upgrade.py).
#
# Builds the package of the pinned older commit (PINNED in test_upgrade.py) and,
# unless NEW_DEB is given, of this tree; installs the old one into a throwaway
# root with `dpkg --root --force-script-chrootless`, serves a throwaway
# PostgreSQL (scripts/pg.sh) with the units' own commands, loads a plan and
# progress reports, upgrades to the new package, restarts as systemd would and
# checks that the configuration, the data and the API answers survive; then
# purges and checks what is left. Exits 77 (skipped) when not root or dpkg is
# missing, or when the pinned commit is not in this clone's history.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ "$(id -u)" -ne 0 ]; then
  echo "tests/pkg: skipped: needs root (dpkg --root, the postgres user)"
  exit 77
fi
for tool in dpkg dpkg-deb; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "tests/pkg: skipped: $tool is missing (not a Debian system?)"
    exit 77
  fi
done
bash "$root/scripts/deps.sh"
exec python3 "$here/test_upgrade.py" "$@"
