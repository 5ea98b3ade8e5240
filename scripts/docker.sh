#!/usr/bin/env bash
# Makes sure a Docker daemon answers. On Debian/Ubuntu as root it installs
# Debian's docker.io and starts dockerd in the background when none runs;
# elsewhere it says what to install. Used by `make docker` (and so by
# `make run` and `make test`).
set -euo pipefail

log=${DOCKERD_LOG:-/var/log/academy-dockerd.log}

answers() { docker info >/dev/null 2>&1; }

if command -v docker >/dev/null 2>&1 && answers; then
	exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "docker: no Docker daemon answers. Install Docker Engine (Debian: apt-get install docker.io)" >&2
	echo "        and start it, or make sure your user may use /var/run/docker.sock." >&2
	exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
	echo "docker: installing Debian's docker.io ..."
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends docker.io iptables >/dev/null
fi

# A daemon that died leaves its pid file behind; dockerd refuses to start
# while it names a pid, even one that is gone or belongs to another process.
for pidfile in /var/run/docker.pid /run/docker/containerd/containerd.pid; do
	if [ -f "$pidfile" ]; then
		pid=$(cat "$pidfile" 2>/dev/null || true)
		if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null || ! grep -qs -e dockerd -e containerd "/proc/$pid/comm"; then
			rm -f "$pidfile"
		fi
	fi
done

if ! pgrep -x dockerd >/dev/null 2>&1; then
	echo "docker: starting dockerd (log: $log)"
	# A session of its own: the daemon outlives the shell (or job) that started it.
	setsid nohup dockerd >"$log" 2>&1 </dev/null &
fi

for _ in $(seq 1 60); do
	if answers; then
		echo "docker: daemon $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"
		exit 0
	fi
	sleep 0.5
done
echo "docker: dockerd did not answer within 30 s; the last lines of $log:" >&2
tail -n 20 "$log" >&2 || true
exit 1
