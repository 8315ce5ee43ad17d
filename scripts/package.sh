#!/usr/bin/env bash
# scripts/package.sh - build the Debian package plantrack_<version>_<arch>.deb.
#
#   bash scripts/package.sh [--out DIR] [--no-lintian]
#
# Copies the working tree (tracked and untracked-but-not-ignored files) to a
# temporary directory, gives debian/changelog a snapshot entry there, runs
# `dpkg-buildpackage -b` (debhelper + CMake: whatever `cmake --install`
# installs, see debian/rules), checks the result with lintian (errors fail the
# build; warnings and infos are shown; debian/plantrack.lintian-overrides, if
# any, gives each override's reason)
# and copies the .deb to DIR (default dist/). The last line printed is the
# .deb's path.
#
# The version is the top debian/changelog version plus +git<commits>.g<hash>
# (.dirty with uncommitted changes or untracked files, which it packages
# too), so a later commit makes a newer package.
# PLANTRACK_DEB_VERSION overrides it (tests/pkg/run.sh builds old commits from
# `git archive`, which has no history).
set -euo pipefail

scripts=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$scripts/.." && pwd)
out=$root/dist
lintian=1
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --no-lintian) lintian=0; shift ;;
    -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done

bash "$scripts/deps.sh" >&2

work=$(mktemp -d /tmp/plantrack-pkg.XXXXXX)
trap 'rm -rf "$work"' EXIT
src=$work/plantrack
mkdir -p "$src"

# The tree as it is, without build directories or anything ignored.
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$root" && git ls-files -z -co --exclude-standard) |
    while IFS= read -r -d '' f; do
      if [ -e "$root/$f" ] || [ -L "$root/$f" ]; then printf '%s\0' "$f"; fi
    done | (cd "$root" && xargs -0 -r cp -P --parents -t "$src")
else
  (cd "$root" && tar --exclude='./build*' --exclude=./dist --exclude=./.run -cf - .) | tar -C "$src" -xf -
fi

base=$(cd "$src" && dpkg-parsechangelog -SVersion)
version=${PLANTRACK_DEB_VERSION:-}
commit=""
if [ -z "$version" ]; then
  version=$base
  if git -C "$root" rev-parse --verify -q HEAD >/dev/null 2>&1; then
    commit=$(git -C "$root" rev-parse HEAD)
    version="$base+git$(git -C "$root" rev-list --count HEAD).g$(git -C "$root" rev-parse --short=8 HEAD)"
    if [ -n "$(git -C "$root" status --porcelain)" ]; then
      version="$version.dirty"
    fi
  fi
fi
if [ "$version" != "$base" ]; then
  maint=$(cd "$src" && dpkg-parsechangelog -SMaintainer)
  {
    echo "plantrack ($version) unstable; urgency=medium"
    echo
    echo "  * Snapshot build${commit:+ of commit $commit}."
    echo
    echo " -- $maint  $(date -R)"
    echo
    cat "$src/debian/changelog"
  } >"$work/changelog"
  mv "$work/changelog" "$src/debian/changelog"
fi

echo "package.sh: building plantrack $version" >&2
log=$work/build.log
if ! (cd "$src" && DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=2" \
      dpkg-buildpackage -b -us -uc -j2 >"$log" 2>&1); then
  tail -n 40 "$log" >&2
  echo "package.sh: dpkg-buildpackage failed" >&2
  exit 1
fi
deb=$(ls "$work"/plantrack_"${version}"_*.deb)

if [ "$lintian" = 1 ]; then
  if command -v lintian >/dev/null 2>&1; then
    echo "package.sh: lintian" >&2
    status=0
    lintian --fail-on error --display-info "$deb" >"$work/lintian.log" 2>&1 || status=$?
    grep -v "running with root privileges" "$work/lintian.log" >&2 || true
    if [ "$status" -ne 0 ]; then
      echo "package.sh: lintian reports errors" >&2
      exit 1
    fi
  else
    echo "package.sh: lintian not installed, not checked" >&2
  fi
fi

mkdir -p "$out"
cp "$deb" "$out/"
echo "$(cd "$out" && pwd)/$(basename "$deb")"
