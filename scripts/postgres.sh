#!/usr/bin/env bash
# Starts a PostgreSQL cluster owned by the project: its own data folder
# (./data/pg), its own port ($LABD_PG_PORT, 55432) on 127.0.0.1 only, run by
# the postgres user with pg_ctl. Installs Debian's postgresql when missing.
# Its last line of output is LABD_DB=postgres://... for labd and the tests.
# `scripts/postgres.sh down` stops the cluster (the data stays).
set -euo pipefail

cd "$(dirname "$0")/.."
dir=$PWD/data/pg
port=${LABD_PG_PORT:-55432}
url="postgres://labd:labd@127.0.0.1:$port/labd?sslmode=disable"

bindir() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		[ -x "$d/pg_ctl" ] && { echo "$d"; return; }
	done
	return 1
}
as_pg() { (cd / && runuser -u postgres -- "$@"); } # from /: it may not enter the checkout

# The cluster runs as the postgres user, who may not be able to reach a
# checkout under a private folder (e.g. /root): then the data lives in a
# folder of its own, named after the checkout, under /var/lib/academy-pg.
usedir() {
	if id postgres >/dev/null 2>&1 && ! as_pg test -x "$PWD" 2>/dev/null; then
		dir=/var/lib/academy-pg/$(printf %s "$PWD" | sha256sum | cut -c1-12)
		mkdir -p /var/lib/academy-pg
	fi
}

usedir
if [ "${1:-}" = down ]; then
	if bin=$(bindir) && [ -f "$dir/PG_VERSION" ]; then
		as_pg "$bin/pg_ctl" -D "$dir" -m fast -w -t 60 stop 2>/dev/null || true
	fi
	echo "postgres: stopped ($dir kept)"
	exit 0
fi

if ! bin=$(bindir); then
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		echo "postgres: PostgreSQL is missing. Install it (Debian: apt-get install postgresql)." >&2
		exit 1
	fi
	echo "postgres: installing Debian's postgresql ..."
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends postgresql >/dev/null
	bin=$(bindir)
fi
if [ "$(id -u)" != 0 ]; then
	echo "postgres: run as root: the cluster runs as the postgres user" >&2
	exit 1
fi

usedir # again: the postgres user exists only once the package is installed
mkdir -p "$dir"
chown postgres:postgres "$dir"
chmod 700 "$dir"
if [ ! -f "$dir/PG_VERSION" ]; then
	echo "postgres: initdb in $dir ..."
	as_pg "$bin/initdb" -D "$dir" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
		-E UTF8 --locale=C.UTF-8 >"$dir/../pg-initdb.log" 2>&1 ||
		{ cat "$dir/../pg-initdb.log" >&2; exit 1; }
	cat >>"$dir/postgresql.conf" <<CONF
# The project's own cluster (scripts/postgres.sh).
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
fsync = on
CONF
fi

# A cluster that died leaves postmaster.pid behind; pg_ctl refuses to start
# while it names a live pid, and that pid may be another process by now.
if [ -f "$dir/postmaster.pid" ]; then
	pid=$(head -1 "$dir/postmaster.pid" 2>/dev/null || true)
	if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null || ! grep -qs postgres "/proc/$pid/comm"; then
		echo "postgres: removing a stale pid file"
		rm -f "$dir/postmaster.pid"
	fi
fi

log=$dir.log # beside the data: the postgres user writes it
touch "$log" && chown postgres:postgres "$log"
if ! as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
	# -w -t: wait, bounded, until it accepts connections.
	as_pg "$bin/pg_ctl" -D "$dir" -l "$log" -w -t 60 start >/dev/null ||
		{ tail -20 "$log" >&2; exit 1; }
fi

psql() { as_pg "$bin/psql" -h "$dir" -p "$port" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
if [ "$(psql -c "SELECT 1 FROM pg_roles WHERE rolname = 'labd'")" != 1 ]; then
	# CREATEDB: the store's tests make a database of their own.
	psql -c "CREATE ROLE labd LOGIN CREATEDB PASSWORD 'labd'"
fi
if [ "$(psql -c "SELECT 1 FROM pg_database WHERE datname = 'labd'")" != 1 ]; then
	psql -c "CREATE DATABASE labd OWNER labd"
fi
echo "postgres: running on 127.0.0.1:$port (data $dir, log $log); stop with make postgres-down"
echo "LABD_DB=$url"
