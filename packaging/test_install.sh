#!/usr/bin/env bash
# The install and the Debian package, checked for real (CTest label
# "package", run by `make test`):
#  1. `cmake --install BUILD --prefix TMP/prefix`: the three programs answer
#     --version, the docs, examples and systemd units are there, and the
#     units start the programs of that prefix.
#  2. `cpack -G DEB` builds the package; `dpkg --root TMP/root -i` installs
#     it into a scratch root (its own dpkg database, so the machine's
#     packages are untouched; --force-depends because the scratch root has
#     none of the libraries the package depends on, which the real machine
#     has), the installed programs run, and `dpkg --root -r` removes every
#     file again. Not root: runs dpkg under fakeroot.
# Usage: test_install.sh BUILD_DIR
set -euo pipefail
[ -n "${BB_TRACE:-}" ] && set -x
BUILD=$(cd "$1" && pwd)
TMP=$(mktemp -d /tmp/bb-install-test-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== 1. cmake --install into $TMP/prefix"
cmake --install "$BUILD" --prefix "$TMP/prefix" > "$TMP/install.log"
P=$TMP/prefix
for prog in buildmaster buildslave buildbot; do
  out=$("$P/bin/$prog" --version) || fail "$prog --version failed"
  [[ $out == "$prog (buildbot-cpp) "* ]] || fail "$prog --version said '$out'"
done
for f in share/doc/buildbot-cpp/README.md share/doc/buildbot-cpp/operations.md \
         share/doc/buildbot-cpp/configuration.md share/doc/buildbot-cpp/examples/demo.yaml \
         share/doc/buildbot-cpp/examples/metabuildbot.yaml \
         lib/systemd/system/buildmaster@.service lib/systemd/system/buildslave@.service; do
  [ -f "$P/$f" ] || fail "missing $P/$f"
done
for f in svn_buildbot.sh hg_buildbot.sh git_buildbot.sh darcs_buildbot.sh cvs_buildbot.sh; do
  [ -x "$P/share/buildbot-cpp/contrib/$f" ] || fail "missing or not executable: contrib/$f"
done
[ -f "$P/share/buildbot-cpp/contrib/buildbot_hook_common.sh" ] || fail "missing contrib/buildbot_hook_common.sh"
grep -qx "ExecStart=$P/bin/buildmaster start --nodaemon %f" "$P/lib/systemd/system/buildmaster@.service" \
  || fail "buildmaster@.service does not start $P/bin/buildmaster"
grep -qx "ExecReload=$P/bin/buildmaster reconfig %f" "$P/lib/systemd/system/buildmaster@.service" \
  || fail "buildmaster@.service does not reload with reconfig"
grep -qx "ExecStart=$P/bin/buildslave start --nodaemon %f" "$P/lib/systemd/system/buildslave@.service" \
  || fail "buildslave@.service does not start $P/bin/buildslave"
grep -qx "Type=notify" "$P/lib/systemd/system/buildmaster@.service" || fail "master unit is not Type=notify"
if command -v systemd-analyze > /dev/null; then
  # Syntax and references of the units (the programs exist, keys are known).
  for u in buildmaster buildslave; do
    cp "$P/lib/systemd/system/$u@.service" "$TMP/$u@x.service"
    systemd-analyze verify "$TMP/$u@x.service" > "$TMP/verify.log" 2>&1 || true
    if grep -Ei "unknown|invalid|failed to parse" "$TMP/verify.log"; then
      fail "systemd-analyze verify found problems in $u@.service"
    fi
  done
fi

echo "== 2. cpack -G DEB"
(cd "$BUILD" && cpack -G DEB -B "$TMP/pkg" > "$TMP/cpack.log" 2>&1) || { cat "$TMP/cpack.log"; fail "cpack failed"; }
DEB=$(ls "$TMP"/pkg/buildbot-cpp_*.deb)
dpkg-deb -f "$DEB" Package Version Depends
dpkg-deb -c "$DEB" > "$TMP/contents"
grep -q "./usr/local/bin/buildbot$" "$TMP/contents" || fail "the package has no /usr/local/bin/buildbot"

echo "== 3. dpkg --root: install, run, remove"
ROOT=$TMP/root
mkdir -p "$ROOT/var/lib/dpkg/info" "$ROOT/var/lib/dpkg/updates" "$ROOT/var/lib/dpkg/triggers"
touch "$ROOT/var/lib/dpkg/status" "$ROOT/var/lib/dpkg/available"
DPKG=(dpkg --root="$ROOT" --log=/dev/null --force-depends --force-not-root --force-script-chrootless)
[ "$(id -u)" -eq 0 ] || DPKG=(fakeroot "${DPKG[@]}")
"${DPKG[@]}" -i "$DEB" > "$TMP/dpkg-i.log" 2>&1 || { cat "$TMP/dpkg-i.log"; fail "dpkg -i failed"; }
"${DPKG[@]}" -s buildbot-cpp | grep -q "^Status: install ok installed" || fail "not installed per dpkg"
for prog in buildmaster buildslave buildbot; do
  out=$("$ROOT/usr/local/bin/$prog" --version) || fail "installed $prog does not run"
  [[ $out == "$prog (buildbot-cpp) "* ]] || fail "installed $prog --version said '$out'"
done
[ -f "$ROOT/usr/local/lib/systemd/system/buildmaster@.service" ] || fail "no unit in the package"
grep -qx "ExecStart=/usr/local/bin/buildmaster start --nodaemon %f" \
  "$ROOT/usr/local/lib/systemd/system/buildmaster@.service" || fail "the packaged unit names the wrong program"
"${DPKG[@]}" -r buildbot-cpp > "$TMP/dpkg-r.log" 2>&1 || { cat "$TMP/dpkg-r.log"; fail "dpkg -r failed"; }
# Every file outside dpkg's own database is gone.
left=$(find "$ROOT" -path "$ROOT/var/lib/dpkg" -prune -o -type f -print)
[ -z "$left" ] || fail "dpkg -r left files: $left"
if "${DPKG[@]}" -s buildbot-cpp 2>/dev/null | grep -q "^Status: install ok installed"; then
  fail "still installed after dpkg -r"
fi
echo "install and package: ok"
