#!/bin/bash
# A throwaway PostgreSQL cluster for the test suite (and the benchmarks):
#   pg_cluster.sh start DIR   initdb in DIR/data, start it on 127.0.0.1 at an
#                             unused port, unix socket in DIR; writes the
#                             server's base URL (postgresql://bb@127.0.0.1:PORT)
#                             to DIR/url
#   pg_cluster.sh stop DIR    stop it and remove DIR
#   pg_cluster.sh down DIR    stop the server (fast: sessions are cut), keep
#                             its data; `up DIR` starts it again on the same
#                             port (a test of PostgreSQL restarted under load)
# PostgreSQL refuses to run as root: under euid 0 the server runs as the
# `postgres` user (Debian's package makes it), and its data and socket live
# in a directory under /tmp that it owns (DIR/home names it): DIR itself may
# be below a directory the postgres user cannot enter, such as /root.
# Trust authentication for the `bb` superuser: the server listens on
# 127.0.0.1 only and lives as long as one test run. The role `bb_pw_user`
# must give a password over TCP (scram-sha-256): the test of
# `database_password_file` makes it.
set -euo pipefail

cmd=${1:?usage: pg_cluster.sh start|stop|down|up DIR}
dir=${2:?usage: pg_cluster.sh start|stop|down|up DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ] && command -v pg_config >/dev/null; then bin=$(pg_config --bindir); fi
if [ ! -x "$bin/initdb" ]; then
  echo "pg_cluster: no PostgreSQL server found (run scripts/setup.sh: it installs postgresql)" >&2
  exit 1
fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$cmd" in
  start)
    if [ -f "$dir/home" ]; then
      old=$(cat "$dir/home")
      [ -f "$old/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$old/data" -m immediate stop >/dev/null 2>&1 || true
      rm -rf "$old"
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
      home=$(mktemp -d /tmp/bb-pg-cluster.XXXXXX)
      chown postgres: "$home"
    else
      home="$dir"
    fi
    echo "$home" >"$dir/home"
    as_owner "$bin/initdb" -D "$home/data" -U bb --auth=trust --no-locale -E UTF8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner sh -c "{ echo 'host all bb_pw_user 127.0.0.1/32 scram-sha-256'; cat '$home/data/pg_hba.conf'; } >'$home/data/pg_hba.new' && mv '$home/data/pg_hba.new' '$home/data/pg_hba.conf'"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # Test settings: no fsync (the data lives for one run), enough
    # connections for every master of a parallel run.
    echo "-c listen_addresses=127.0.0.1 -p $port -k $home -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >"$dir/options"
    if ! as_owner "$bin/pg_ctl" -D "$home/data" -l "$home/server.log" -w -t 60 -o "$(cat "$dir/options")" \
        start >/dev/null; then
      cat "$home/server.log" >&2
      exit 1
    fi
    echo "postgresql://bb@127.0.0.1:$port" >"$dir/url"
    echo "pg_cluster: started at $(cat "$dir/url") in $dir"
    ;;
  stop)
    home=$(cat "$dir/home" 2>/dev/null || echo "$dir")
    if [ -f "$home/data/postmaster.pid" ]; then
      as_owner "$bin/pg_ctl" -D "$home/data" -m fast -w stop >/dev/null
    fi
    rm -rf "$home" "$dir"
    echo "pg_cluster: stopped"
    ;;
  down)
    home=$(cat "$dir/home")
    as_owner "$bin/pg_ctl" -D "$home/data" -m fast -w stop >/dev/null
    echo "pg_cluster: down"
    ;;
  up)
    home=$(cat "$dir/home")
    as_owner "$bin/pg_ctl" -D "$home/data" -l "$home/server.log" -w -t 60 -o "$(cat "$dir/options")" start >/dev/null ||
      { cat "$home/server.log" >&2; exit 1; }
    echo "pg_cluster: up again at $(cat "$dir/url")"
    ;;
  *)
    echo "usage: pg_cluster.sh start|stop|down|up DIR" >&2
    exit 2
    ;;
esac
