#!/usr/bin/env bash
# academy/linux: academy/base plus the tools a general Linux lab (an
# imported Killercoda scenario) expects: bash, coreutils, curl, jq, vim,
# nano, tree, git, python3, iproute2, procps, sudo and an ssh server and
# client. Built like academy/ceph: the base image's files are exported, the
# packages installed there by chroot with this machine's apt (nothing is
# pulled from a registry), and the result imported. About 1-2 minutes.
#
# Every node of the image has the same root key pair, authorised for root:
# the nodes of one lab log in to each other by ssh without a password, as
# Killercoda's two-host environments do. The keys are made at build time,
# so they are the same in every lab session on this machine; a lab node is
# reachable only from its own session's network.
set -euo pipefail
tag=$1
here=$(cd "$(dirname "$0")" && pwd)
export DEBIAN_FRONTEND=noninteractive

root=$(mktemp -d /var/tmp/academy-linux.XXXXXX)
cid=""
cleanup() {
	umount "$root/proc" 2>/dev/null || true
	[ -n "$cid" ] && docker rm -f "$cid" >/dev/null 2>&1 || true
	rm -rf "$root"
}
trap cleanup EXIT

cid=$(docker create academy/base:latest true)
docker export "$cid" | tar -C "$root" -x
docker rm -f "$cid" >/dev/null
cid=""

cp /etc/apt/sources.list "$root/etc/apt/sources.list" 2>/dev/null || true
mkdir -p "$root/etc/apt/sources.list.d"
cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/" 2>/dev/null || true
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
log=/tmp/academy-linux-apt.log
chroot "$root" apt-get update -q >$log 2>&1 || { tail -20 $log >&2; exit 1; }
chroot "$root" apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-unsafe-io \
	bash coreutils curl wget jq vim nano tree git python3 iproute2 iputils-ping procps psmisc \
	less file sudo netcat-openbsd dnsutils openssh-server openssh-client \
	>>$log 2>&1 || { tail -20 $log >&2; exit 1; }
chroot "$root" apt-get clean
# Keys: host keys, and root's key pair authorised for root.
rm -f "$root"/etc/ssh/ssh_host_*
chroot "$root" ssh-keygen -q -A
mkdir -p -m 0700 "$root/root/.ssh"
chroot "$root" ssh-keygen -q -t ed25519 -N '' -C root@academy-linux -f /root/.ssh/id_ed25519
cp "$root/root/.ssh/id_ed25519.pub" "$root/root/.ssh/authorized_keys"
chmod 0600 "$root/root/.ssh/authorized_keys"
cat >"$root/etc/ssh/sshd_config.d/academy.conf" <<'CONF'
PermitRootLogin prohibit-password
PasswordAuthentication no
UsePAM no
CONF
cat >"$root/etc/ssh/ssh_config.d/academy.conf" <<'CONF'
Host *
	StrictHostKeyChecking no
	UserKnownHostsFile /dev/null
	LogLevel ERROR
CONF
umount "$root/proc"
rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* \
	"$root"/var/cache/apt/*.bin "$root"/var/log/*.log
: >"$root/etc/resolv.conf"
install -m 0755 "$here/academy-node" "$root/usr/local/sbin/academy-node"

tar --numeric-owner -C "$root" -c . |
	docker import --change 'CMD ["/usr/local/sbin/academy-node"]' \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'ENV LANG=C.UTF-8' --change 'WORKDIR /root' - "$tag" >/dev/null
