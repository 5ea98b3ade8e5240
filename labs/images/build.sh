#!/usr/bin/env bash
# Builds the lab images offline (`make images`). Each image is tagged by a
# hash of its recipe folder, so an image is rebuilt only when its recipe
# changes; :latest points at the current build. Usage: build.sh [IMAGE...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
images=("$@")
[ ${#images[@]} -gt 0 ] || images=(tiny base ceph linux)

for name in "${images[@]}"; do
	dir=$here/$name
	[ -x "$dir/build.sh" ] || { echo "images: no recipe $dir/build.sh" >&2; exit 1; }
	# An image built on another (named in its "from" file) changes with it.
	srcs=("$dir")
	[ -f "$dir/from" ] && srcs+=("$here/$(cat "$dir/from")")
	hash=$(find "${srcs[@]}" -type f -print0 | sort -z | xargs -0 sha256sum | sed "s|$here/||" | sha256sum | cut -c1-12)
	tag=academy/$name:$hash
	if docker image inspect "$tag" >/dev/null 2>&1; then
		docker tag "$tag" "academy/$name:latest"
		echo "images: $tag is up to date"
		continue
	fi
	echo "images: building $tag ..."
	start=$(date +%s)
	"$dir/build.sh" "$tag"
	docker tag "$tag" "academy/$name:latest"
	echo "images: built $tag in $(($(date +%s) - start)) s"
done
