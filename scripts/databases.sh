#!/usr/bin/env bash
# Starts the PostgreSQL and MariaDB servers that the storage tests run on, on
# 127.0.0.1, and prints their connection URLs as shell `export` lines:
#
#   eval "$(bash scripts/databases.sh)"
#
# Usage: scripts/databases.sh [start|stop|remove|env] [postgres] [mariadb]
#   start   install the Debian packages if missing (as root), create the data
#           directory, role and database on first use, and start the server;
#           a server of this script that is already running is reused
#   stop    stop the server, keeping its data
#   remove  stop the server and delete its data directory
#   env     print the export lines only
# Without server names, the command applies to both.
#
# Environment:
#   TRUSTLINE_DB_DIR              data directories, default
#                                 /var/tmp/trustline-databases-<uid>
#   TRUSTLINE_DB_INSTANCE         a name that keeps separate servers apart,
#                                 default "default"
#   TRUSTLINE_TEST_POSTGRES_PORT  default 55432
#   TRUSTLINE_TEST_MYSQL_PORT     default 53306
#
# The data is not under ~/.cache/trustline because, as root, the servers run
# as the `postgres` and `mysql` users, which cannot enter /root. The servers
# are for tests only: they listen on 127.0.0.1 alone, and durability settings
# (fsync) are off.
#
# Log lines go to standard error, so that standard output holds only the
# export lines.
set -euo pipefail

DB_DIR="${TRUSTLINE_DB_DIR:-/var/tmp/trustline-databases-$(id -u)}"
INSTANCE="${TRUSTLINE_DB_INSTANCE:-default}"
POSTGRES_PORT="${TRUSTLINE_TEST_POSTGRES_PORT:-55432}"
MYSQL_PORT="${TRUSTLINE_TEST_MYSQL_PORT:-53306}"

# The role, password and database the tests connect with, on both servers.
TEST_USER=trustline
TEST_PASSWORD=trustline
TEST_DATABASE=trustline_test

POSTGRES_DIR="$DB_DIR/$INSTANCE/postgres"
MARIADB_DIR="$DB_DIR/$INSTANCE/mariadb"

log() {
  printf '[databases] %s\n' "$*" >&2
}

die() {
  printf '[databases] ERROR: %s\n' "$*" >&2
  exit 1
}

is_root() {
  [ "$(id -u)" -eq 0 ]
}

# Installs Debian packages that are missing. Only root can; anyone else gets
# the command to run.
install_packages() {
  local missing=() package
  for package in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$package")
    fi
  done
  [ "${#missing[@]}" -eq 0 ] && return 0

  is_root || die "missing Debian packages ${missing[*]}: run 'sudo apt-get install ${missing[*]}'"
  log "apt-get install ${missing[*]}"

  # Keep the packages' maintainer scripts from starting the system-wide
  # servers: the tests use their own data directories and ports.
  local created_policy=false
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    created_policy=true
  fi

  local status=0
  {
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" ||
      { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; }
  } >&2 || status=$?

  if [ "$created_policy" = true ]; then
    rm -f /usr/sbin/policy-rc.d
  fi
  return "$status"
}

# Runs a command as `user` when this script runs as root, else as the
# current user.
run_as() {
  local user="$1"
  shift
  if is_root; then
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------

postgres_bindir() {
  local dir
  dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$dir" ] || die "no PostgreSQL server binaries under /usr/lib/postgresql: install the postgresql package"
  echo "$dir"
}

postgres_running() {
  local bindir="$1"
  [ -f "$POSTGRES_DIR/data/PG_VERSION" ] && run_as postgres "$bindir/pg_ctl" status -D "$POSTGRES_DIR/data" >/dev/null 2>&1
}

start_postgres() {
  install_packages postgresql
  local bindir
  bindir="$(postgres_bindir)"

  if postgres_running "$bindir"; then
    log "PostgreSQL is already running on 127.0.0.1:$POSTGRES_PORT ($POSTGRES_DIR)"
    return 0
  fi

  mkdir -p "$POSTGRES_DIR"
  is_root && chown postgres:postgres "$POSTGRES_DIR"

  if [ ! -f "$POSTGRES_DIR/data/PG_VERSION" ]; then
    log "initdb $POSTGRES_DIR/data"
    # Local socket connections need no password (the script creates the test
    # role through them); TCP connections need one.
    run_as postgres "$bindir/initdb" -D "$POSTGRES_DIR/data" -U postgres -E UTF8 --no-locale \
      --auth-local=trust --auth-host=scram-sha-256 >&2
    cat >>"$POSTGRES_DIR/data/postgresql.conf" <<EOF

# Written by scripts/databases.sh: a test server on 127.0.0.1.
listen_addresses = '127.0.0.1'
port = $POSTGRES_PORT
unix_socket_directories = '$POSTGRES_DIR'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  fi

  log "starting PostgreSQL on 127.0.0.1:$POSTGRES_PORT"
  if ! run_as postgres "$bindir/pg_ctl" start -D "$POSTGRES_DIR/data" -l "$POSTGRES_DIR/server.log" -w -t 60 >&2; then
    tail -n 20 "$POSTGRES_DIR/server.log" >&2 || true
    die "PostgreSQL did not start: see $POSTGRES_DIR/server.log (is port $POSTGRES_PORT taken?)"
  fi

  local psql=(run_as postgres "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$POSTGRES_DIR" -p "$POSTGRES_PORT" -U postgres -d postgres)
  "${psql[@]}" >&2 <<EOF
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$TEST_USER') THEN
    CREATE ROLE $TEST_USER LOGIN CREATEDB PASSWORD '$TEST_PASSWORD';
  END IF;
END
\$\$;
EOF
  if [ -z "$("${psql[@]}" -tA -c "SELECT 1 FROM pg_database WHERE datname = '$TEST_DATABASE'")" ]; then
    "${psql[@]}" -c "CREATE DATABASE $TEST_DATABASE OWNER $TEST_USER" >&2
  fi
}

stop_postgres() {
  [ -d /usr/lib/postgresql ] || return 0
  local bindir
  bindir="$(postgres_bindir)"
  if postgres_running "$bindir"; then
    log "stopping PostgreSQL ($POSTGRES_DIR)"
    run_as postgres "$bindir/pg_ctl" stop -D "$POSTGRES_DIR/data" -m fast -w >&2
  fi
}

# ---------------------------------------------------------------------------
# MariaDB
# ---------------------------------------------------------------------------

mariadb_admin_user() {
  # mariadb-install-db gives root and the installing OS user unix-socket login.
  if is_root; then echo root; else id -un; fi
}

mariadb_ping() {
  mariadb-admin --no-defaults --socket="$MARIADB_DIR/mysqld.sock" -u "$(mariadb_admin_user)" ping >/dev/null 2>&1
}

start_mariadb() {
  install_packages mariadb-server mariadb-client

  if mariadb_ping; then
    log "MariaDB is already running on 127.0.0.1:$MYSQL_PORT ($MARIADB_DIR)"
    return 0
  fi

  local server_user
  server_user="$(id -un)"
  is_root && server_user=mysql
  mkdir -p "$MARIADB_DIR"
  is_root && chown mysql:mysql "$MARIADB_DIR"

  if [ ! -d "$MARIADB_DIR/data/mysql" ]; then
    log "mariadb-install-db $MARIADB_DIR/data"
    mariadb-install-db --no-defaults --user="$server_user" --datadir="$MARIADB_DIR/data" \
      --auth-root-authentication-method=socket --skip-test-db >&2
  fi

  log "starting MariaDB on 127.0.0.1:$MYSQL_PORT"
  # setsid detaches the server from this script's process group, so that it
  # outlives the shell that started it.
  setsid mariadbd --no-defaults --user="$server_user" --datadir="$MARIADB_DIR/data" \
    --socket="$MARIADB_DIR/mysqld.sock" --pid-file="$MARIADB_DIR/mysqld.pid" \
    --port="$MYSQL_PORT" --bind-address=127.0.0.1 --skip-name-resolve --skip-log-bin \
    --max-connections=200 --innodb-flush-log-at-trx-commit=0 --innodb-buffer-pool-size=64M \
    --log-error="$MARIADB_DIR/server.log" </dev/null >/dev/null 2>&1 &

  local waited=0
  until mariadb_ping; do
    if [ "$waited" -ge 60 ]; then
      tail -n 20 "$MARIADB_DIR/server.log" >&2 || true
      die "MariaDB did not start within 60 s: see $MARIADB_DIR/server.log (is port $MYSQL_PORT taken?)"
    fi
    sleep 0.5
    waited=$((waited + 1))
  done

  mariadb --no-defaults --socket="$MARIADB_DIR/mysqld.sock" -u "$(mariadb_admin_user)" >&2 <<EOF
CREATE DATABASE IF NOT EXISTS $TEST_DATABASE;
CREATE USER IF NOT EXISTS '$TEST_USER'@'%' IDENTIFIED BY '$TEST_PASSWORD';
-- The tests create a database per test, so the role may create and drop any.
GRANT ALL PRIVILEGES ON *.* TO '$TEST_USER'@'%';
EOF
}

stop_mariadb() {
  if mariadb_ping; then
    log "stopping MariaDB ($MARIADB_DIR)"
    mariadb-admin --no-defaults --socket="$MARIADB_DIR/mysqld.sock" -u "$(mariadb_admin_user)" shutdown >&2
  fi
}

# ---------------------------------------------------------------------------

print_env() {
  local server
  for server in "$@"; do
    case "$server" in
      postgres)
        echo "export TRUSTLINE_TEST_POSTGRES_URL='postgres://$TEST_USER:$TEST_PASSWORD@127.0.0.1:$POSTGRES_PORT/$TEST_DATABASE'"
        ;;
      mariadb)
        echo "export TRUSTLINE_TEST_MYSQL_URL='mysql://$TEST_USER:$TEST_PASSWORD@127.0.0.1:$MYSQL_PORT/$TEST_DATABASE'"
        ;;
    esac
  done
}

main() {
  local command="${1:-start}"
  [ "$#" -gt 0 ] && shift
  local servers=("$@")
  [ "${#servers[@]}" -eq 0 ] && servers=(postgres mariadb)

  local server
  for server in "${servers[@]}"; do
    case "$server" in
      postgres | mariadb) ;;
      *) die "unknown server '$server': use postgres or mariadb" ;;
    esac
  done

  case "$command" in
    start)
      for server in "${servers[@]}"; do "start_$server"; done
      print_env "${servers[@]}"
      ;;
    stop)
      for server in "${servers[@]}"; do "stop_$server"; done
      ;;
    remove)
      for server in "${servers[@]}"; do "stop_$server"; done
      for server in "${servers[@]}"; do
        [ "$server" = postgres ] && rm -rf "$POSTGRES_DIR"
        [ "$server" = mariadb ] && rm -rf "$MARIADB_DIR"
      done
      rmdir "$DB_DIR/$INSTANCE" 2>/dev/null || true
      ;;
    env)
      print_env "${servers[@]}"
      ;;
    *)
      die "unknown command '$command': use start, stop, remove or env"
      ;;
  esac
}

main "$@"
