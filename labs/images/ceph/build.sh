#!/usr/bin/env bash
# academy/ceph: academy/base plus Ceph 16.2.15 (Debian bookworm's packages: the
# daemons, the dashboard, cephfs-shell, s3cmd and the aws client)
# and the node entrypoint. The base image's files are exported into a
# folder, the packages installed there by chroot with this machine's apt
# (nothing is pulled from a registry), and the result imported. 3-5 minutes;
# the lab scripts (ceph-lab, academy-node, fail) are a layer on top, so
# changing them takes seconds.
set -euo pipefail
tag=$1
here=$(cd "$(dirname "$0")" && pwd)
export DEBIAN_FRONTEND=noninteractive
base_root=academy/base-root:$(sha256sum "$here/../base/build.sh" | cut -c1-12)
# The system with Ceph installed, named by this recipe's and the base's hashes.
root_tag=academy/ceph-root:$(cat "$0" "$here/../base/build.sh" | sha256sum | cut -c1-12)
scripts() {
	# The legacy builder uses the local image (no pull); it warns that it is old.
	local out
	out=$(DOCKER_BUILDKIT=0 docker build -q -t "$tag" -f - "$here/.." 2>&1 <<DOCKERFILE
FROM $root_tag
COPY base/fail /usr/local/bin/fail
COPY ceph/academy-node ceph/ceph-lab /usr/local/sbin/
DOCKERFILE
	) || { echo "$out" >&2; return 1; }
}
if docker image inspect "$root_tag" >/dev/null 2>&1; then
	scripts
	exit 0
fi

root=$(mktemp -d /var/tmp/academy-ceph.XXXXXX)
cid=""
cleanup() {
	umount "$root/proc" 2>/dev/null || true
	[ -n "$cid" ] && docker rm -f "$cid" >/dev/null 2>&1 || true
	rm -rf "$root"
}
trap cleanup EXIT

cid=$(docker create "$base_root" true)
docker export "$cid" | tar -C "$root" -x
docker rm -f "$cid" >/dev/null
cid=""

# The base image keeps no package lists; the chroot uses this machine's sources.
cp /etc/apt/sources.list "$root/etc/apt/sources.list" 2>/dev/null || true
mkdir -p "$root/etc/apt/sources.list.d"
cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/" 2>/dev/null || true
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
chroot "$root" apt-get update -q >/tmp/academy-ceph-apt.log 2>&1 ||
	{ tail -20 /tmp/academy-ceph-apt.log >&2; exit 1; }
chroot "$root" apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-unsafe-io \
	ceph-mon ceph-mgr ceph-osd ceph-mds ceph-common radosgw uuid-runtime s3cmd awscli \
	ceph-mgr-dashboard cephfs-shell python3-bcrypt \
	>>/tmp/academy-ceph-apt.log 2>&1 || { tail -20 /tmp/academy-ceph-apt.log >&2; exit 1; }
chroot "$root" apt-get clean
umount "$root/proc"
rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* \
	"$root"/var/cache/apt/*.bin "$root"/var/log/*.log
: >"$root/etc/resolv.conf"
mkdir -p "$root/var/lib/ceph/bootstrap-osd" "$root/etc/ceph"

tar --numeric-owner -C "$root" -c . |
	docker import --change 'CMD ["/usr/local/sbin/academy-node"]' \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'ENV LANG=C.UTF-8' - "$root_tag" >/dev/null
scripts
