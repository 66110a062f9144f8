#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the test suite (Debian's `postgresql` package;
# scripts/install-deps.sh installs it). `make test` (scripts/test.sh) starts one before
# `swift test` and stops it at the end.
#
#   scripts/test-postgres.sh start DIR   # initdb in DIR (a new or empty folder) and start it
#   scripts/test-postgres.sh stop DIR    # stop it (fast mode) and remove DIR
#
# `start` runs the cluster as the `postgres` user (CI runs as root), listening only on
# 127.0.0.1 on a free port, its unix socket in DIR, its log in DIR/log, fsync and
# synchronous_commit on (the defaults), max_connections 200, scram-sha-256 password
# authentication for a role `inlet` (a generated password) that owns a database `inlet`.
# It waits until the server accepts connections and prints, on stdout, lines to `eval`:
#
#   export INLET_TEST_POSTGRES_URL='postgres://inlet@127.0.0.1:PORT/inlet?sslmode=disable'
#   export INLET_TEST_POSTGRES_PASSWORD='...'
#   export INLET_TEST_POSTGRES_DIR='DIR'                      # the data directory
#   export INLET_TEST_POSTGRES_BIN='/usr/lib/postgresql/15/bin'
#
# A test that needs an outage stops and starts the same cluster (same port, same data)
# with the binaries and the folder from those variables, as root:
#
#   runuser -u postgres -- "$INLET_TEST_POSTGRES_BIN/pg_ctl" -D "$INLET_TEST_POSTGRES_DIR" stop -m immediate
#   runuser -u postgres -- "$INLET_TEST_POSTGRES_BIN/pg_ctl" -D "$INLET_TEST_POSTGRES_DIR" \
#       -l "$INLET_TEST_POSTGRES_DIR/log" -w start
#
# (the port, the socket folder and the other settings are in DIR/postgresql.conf, so a plain
# `start` brings the same server back). Run the commands from a folder `postgres` may enter
# (e.g. `cd /`), or PostgreSQL's tools warn about the current directory.
set -euo pipefail

bin=${INLET_TEST_POSTGRES_BIN:-/usr/lib/postgresql/15/bin}
marker=.inlet-test-postgres   # written after initdb: `stop` removes only folders that have it

fail() { echo "test-postgres: $*" >&2; exit 1; }
as_postgres() { (cd / && runuser -u postgres -- "$@"); }

usage() { fail "usage: $0 start|stop DIR"; }
[[ $# -eq 2 ]] || usage
command=$1
[[ -n $2 ]] || usage
dir=$(realpath -m -- "$2")
[[ $dir != / ]] || fail "refusing to use / as the cluster folder"

[[ $(id -u) -eq 0 ]] || fail "must run as root (the cluster runs as the postgres user through runuser)"
[[ -x $bin/initdb ]] || fail "$bin/initdb is missing; run scripts/install-deps.sh (Debian package postgresql)"
getent passwd postgres >/dev/null || fail "there is no postgres user; run scripts/install-deps.sh"

# A free TCP port on 127.0.0.1 (the kernel's choice). Another process may take it before the
# server binds it; `start` then tries again with another one.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Makes every folder above DIR enterable by `postgres` (adds o+x where it is missing).
make_parents_traversable() {
    local parent
    parent=$(dirname -- "$dir")
    while [[ $parent != / ]]; do
        if ! as_postgres test -x "$parent"; then
            echo "test-postgres: letting others enter $parent (chmod o+x)" >&2
            chmod o+x -- "$parent"
        fi
        parent=$(dirname -- "$parent")
    done
}

start() {
    mkdir -p -- "$dir"
    [[ -z $(ls -A -- "$dir") ]] || fail "$dir is not empty"
    make_parents_traversable
    chown postgres:postgres -- "$dir"
    chmod 0700 -- "$dir"

    local password
    password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')

    local output
    output=$(as_postgres "$bin/initdb" --pgdata="$dir" --username=postgres --encoding=UTF8 --locale=C.UTF-8 \
        --auth-local=peer --auth-host=scram-sha-256 2>&1) || { echo "$output" >&2; fail "initdb failed in $dir"; }
    as_postgres touch "$dir/$marker"

    local attempt port started=""
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        # The last setting of a name wins: a retry's lines replace the previous attempt's.
        as_postgres tee -a "$dir/postgresql.conf" >/dev/null <<EOF

# scripts/test-postgres.sh (attempt $attempt)
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
EOF
        # -w: pg_ctl waits for the server, and fails when it exits (e.g. the port was taken).
        if as_postgres "$bin/pg_ctl" --pgdata="$dir" --log="$dir/log" --wait --timeout=60 start >/dev/null \
            && wait_until_ready "$port"; then
            started=yes
            break
        fi
        echo "test-postgres: the server did not start on port $port (attempt $attempt); trying another port" >&2
        as_postgres "$bin/pg_ctl" --pgdata="$dir" stop -m immediate >/dev/null 2>&1 || true
    done
    [[ -n $started ]] || { tail -20 "$dir/log" >&2; fail "the server did not start; log: $dir/log"; }

    # The role and its database, over the unix socket as the superuser (peer authentication).
    as_postgres "$bin/psql" --quiet --no-psqlrc --set=ON_ERROR_STOP=1 --host="$dir" --port="$port" \
        --username=postgres --dbname=postgres >/dev/null <<EOF
SET password_encryption = 'scram-sha-256';
CREATE ROLE inlet LOGIN PASSWORD '$password';
CREATE DATABASE inlet OWNER inlet;
EOF

    echo "test-postgres: PostgreSQL on 127.0.0.1:$port, data and log in $dir" >&2
    printf 'export INLET_TEST_POSTGRES_URL=%q\n' "postgres://inlet@127.0.0.1:$port/inlet?sslmode=disable"
    printf 'export INLET_TEST_POSTGRES_PASSWORD=%q\n' "$password"
    printf 'export INLET_TEST_POSTGRES_DIR=%q\n' "$dir"
    printf 'export INLET_TEST_POSTGRES_BIN=%q\n' "$bin"
}

# Polls pg_isready over TCP until the server accepts connections (true), or until 30 s have
# passed or the server has stopped (false).
wait_until_ready() {
    local port=$1 deadline=$((SECONDS + 30))
    while ((SECONDS < deadline)); do
        "$bin/pg_isready" --quiet --host=127.0.0.1 --port="$port" --timeout=2 && return 0
        as_postgres "$bin/pg_ctl" --pgdata="$dir" status >/dev/null 2>&1 || return 1
        sleep 0.1
    done
    return 1
}

stop() {
    [[ -d $dir ]] || return 0
    if [[ ! -e $dir/$marker && -n $(ls -A -- "$dir") ]]; then
        fail "$dir was not made by $0 start; not removing it"
    fi
    if [[ -e $dir/postmaster.pid ]]; then
        as_postgres "$bin/pg_ctl" --pgdata="$dir" stop -m fast --timeout=60 >/dev/null \
            || as_postgres "$bin/pg_ctl" --pgdata="$dir" stop -m immediate >/dev/null 2>&1 || true
    fi
    rm -rf -- "$dir"
}

case $command in
    start) start ;;
    stop) stop ;;
    *) usage ;;
esac
