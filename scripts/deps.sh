#!/usr/bin/env bash
# Makes sure the Debian packages labd itself needs are installed: the fonts
# of certificate PDFs, TrueType as fpdf needs (fonts-arphic-gbsn00lp for
# Chinese, fonts-liberation2 for Latin text), and poppler-utils (pdftoppm,
# pdftotext) with which the tests read them. Used by `make run` and `make test`.
set -euo pipefail
need=()
[ -f /usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf ] || need+=(fonts-arphic-gbsn00lp)
[ -f /usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf ] &&
	[ -f /usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf ] || need+=(fonts-liberation2)
command -v pdftoppm >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: install ${need[*]} (Debian: apt-get install ${need[*]})" >&2
	exit 1
fi
echo "deps: installing ${need[*]} ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
