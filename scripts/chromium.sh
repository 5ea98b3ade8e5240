#!/usr/bin/env bash
# Makes sure Debian's Chromium (for the browser tests) and a font that covers
# Chinese are installed. Used by `make test`.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk" || need+=(fonts-wqy-microhei)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "chromium: install ${need[*]} (Debian: apt-get install ${need[*]})" >&2
	exit 1
fi
echo "chromium: installing ${need[*]} ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
