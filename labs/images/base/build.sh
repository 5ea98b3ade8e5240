#!/usr/bin/env bash
# academy/base: a minimal Debian bookworm made with debootstrap from this
# machine's own apt mirror, with the tools a lab shell needs, imported as an
# image. Nothing is pulled from a registry. About 2-3 minutes; the lab
# helpers (fail) are a layer on top, so changing them takes seconds.
set -euo pipefail
tag=$1
here=$(cd "$(dirname "$0")" && pwd)
# The debootstrapped system, named by this recipe's hash.
root_tag=academy/base-root:$(sha256sum "$0" | cut -c1-12)
helpers() {
	# The legacy builder uses the local image (no pull); it warns that it is old.
	local out
	out=$(DOCKER_BUILDKIT=0 docker build -q -t "$tag" -f - "$here" 2>&1 <<DOCKERFILE
FROM $root_tag
COPY fail /usr/local/bin/fail
DOCKERFILE
	) || { echo "$out" >&2; return 1; }
}
if docker image inspect "$root_tag" >/dev/null 2>&1; then
	helpers
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
command -v debootstrap >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q debootstrap >/dev/null; }

# The mirror this machine's apt already uses (deb822 first, then the classic list).
mirror=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
	mirror=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
	mirror=$(awk '$1=="deb" && $3 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
fi
[ -n "$mirror" ] || { echo "base: no Debian mirror found in the apt sources" >&2; exit 1; }

root=$(mktemp -d /var/tmp/academy-base.XXXXXX)
cleanup() {
	umount "$root/proc" 2>/dev/null || true
	rm -rf "$root"
}
trap cleanup EXIT

debootstrap --variant=minbase bookworm "$root" "$mirror" >/tmp/academy-debootstrap.log 2>&1 ||
	{ tail -20 /tmp/academy-debootstrap.log >&2; exit 1; }

# Services must not start inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc"
chroot "$root" apt-get install -y -q --no-install-recommends \
	-o Dpkg::Options::=--force-unsafe-io \
	bash procps iproute2 iputils-ping vim-tiny less curl ca-certificates jq busybox \
	>/tmp/academy-base-apt.log 2>&1 || { tail -20 /tmp/academy-base-apt.log >&2; exit 1; }
chroot "$root" apt-get clean
umount "$root/proc"
rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* \
	"$root"/usr/share/info/* "$root"/var/cache/apt/*.bin "$root"/var/log/*.log
printf '%s\n' "PS1='\\u@\\h:\\w\\$ '" >>"$root/root/.bashrc"

tar --numeric-owner -C "$root" -c . |
	docker import --change 'CMD ["/bin/bash"]' \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'ENV LANG=C.UTF-8' - "$root_tag" >/dev/null
helpers
