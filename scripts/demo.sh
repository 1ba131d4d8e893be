#!/usr/bin/env bash
# The demo: a master from config/examples/demo.yaml and a slave in ./demo,
# a small local git repository, a commit to it, and the build it causes.
# `scripts/demo.sh stop` stops the demo's daemons.
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$(pwd)
BUILD=${BUILD:-build}
MASTER_BIN=$TOP/$BUILD/master/buildmaster
SLAVE_BIN=$TOP/$BUILD/slave/buildslave
CLIENT_BIN=$TOP/$BUILD/client/buildbot
DEMO=$TOP/demo
PORT=${DEMO_PORT:-9989}
WEB_PORT=${DEMO_WEB_PORT:-8010}

stop_all() {
  [ -f "$DEMO/slave/buildslave.pid" ] && "$SLAVE_BIN" stop "$DEMO/slave" >/dev/null 2>&1 || true
  [ -f "$DEMO/master/buildmaster.pid" ] && "$MASTER_BIN" stop "$DEMO/master" >/dev/null 2>&1 || true
}

if [ "${1:-}" = stop ]; then
  stop_all
  echo "demo stopped"
  exit 0
fi

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

stop_all
rm -rf "$DEMO"
mkdir -p "$DEMO"

say "1. A small local git repository: $DEMO/demo-repo"
git init -q -b main "$DEMO/demo-repo"
git -C "$DEMO/demo-repo" config user.name "Demo Developer"
git -C "$DEMO/demo-repo" config user.email "dev@example.org"
echo "# demo project" > "$DEMO/demo-repo/README.md"
git -C "$DEMO/demo-repo" add README.md
git -C "$DEMO/demo-repo" commit -q -m "initial commit"
git -C "$DEMO/demo-repo" log --oneline

say "2. A master in $DEMO/master (config/examples/demo.yaml, port $PORT)"
sed -e "s|@DEMO_REPO@|$DEMO/demo-repo|g" -e "s|slave_port: 9989|slave_port: $PORT|" \
    -e "s|web_port: 8010|web_port: $WEB_PORT|" -e "s|url: http://localhost:8010/|url: http://127.0.0.1:$WEB_PORT/|" \
    config/examples/demo.yaml > "$DEMO/demo.yaml"
"$MASTER_BIN" create-master "$DEMO/master" --config "$DEMO/demo.yaml"
"$MASTER_BIN" checkconfig "$DEMO/master"
"$MASTER_BIN" start "$DEMO/master"
# Slaves and clients pin the certificate create-master made (TLS).
FP=$("$MASTER_BIN" fingerprint "$DEMO/master")

say "3. A slave in $DEMO/slave"
"$SLAVE_BIN" create-slave "$DEMO/slave" "127.0.0.1:$PORT" demo-slave demo-pass --master-fingerprint "$FP"
"$SLAVE_BIN" start "$DEMO/slave"

client() { BUILDBOT_MASTER="127.0.0.1:$PORT" BUILDBOT_AUTH=demo:demo-pass BUILDBOT_MASTER_FINGERPRINT="$FP" "$CLIENT_BIN" "$@"; }

# Wait until the poller has seen the branch, so the next commit is new.
for _ in $(seq 1 100); do
  grep -q "watching main" "$DEMO/master/buildmaster.log" 2>/dev/null && break
  sleep 0.1
done

say "4. A commit to the repository"
echo "hello from the demo" > "$DEMO/demo-repo/hello.txt"
git -C "$DEMO/demo-repo" add hello.txt
git -C "$DEMO/demo-repo" commit -q -m "add hello.txt"
git -C "$DEMO/demo-repo" log --oneline -1

say "5. The build the commit caused (the poller checks every 2 s)"
finished=""
for _ in $(seq 1 300); do
  if client status --builder demo-build --json 2>/dev/null | grep -q '"finished": *true'; then
    finished=yes
    break
  fi
  sleep 0.1
done
client status --builder demo-build
if [ -z "$finished" ]; then
  echo "the build did not finish within 30 s; see $DEMO/master/buildmaster.log" >&2
  exit 1
fi

say "6. Its steps and log"
client status --builder demo-build --build 1 --logs

say "Where to look next"
cat <<INFO
  in a browser:    http://127.0.0.1:$WEB_PORT/  (waterfall: /waterfall; log in as demo / demo-pass to force)
  master log:      $DEMO/master/buildmaster.log
  slave log:       $DEMO/slave/buildslave.log
  database:        sqlite3 $DEMO/master/state.sqlite '.tables'
  the client:      export PATH=$TOP/$BUILD/master:$TOP/$BUILD/slave:$TOP/$BUILD/client:\$PATH
                   export BUILDBOT_MASTER=127.0.0.1:$PORT BUILDBOT_AUTH=demo:demo-pass
                   export BUILDBOT_MASTER_FINGERPRINT=\$(buildmaster fingerprint $DEMO/master)
  the build:       buildbot status --builder demo-build --build 1 --logs
  one log:         buildbot log demo-build 1 build   (--follow for a running build)
  force a build:   buildbot force --scheduler force --reason try --wait
  a change:        buildbot sendchange --who alice --branch main --revision \$(git -C $DEMO/demo-repo rev-parse HEAD) hello.txt
                   (or commit to $DEMO/demo-repo: the poller sees it within 2 s)
  stop the demo:   make demo-stop
  more commands:   README.md; configuration: docs/configuration.md
INFO
