#!/usr/bin/env bash
# The Debian packages some tests drive for real: Chromium and its driver for the portal's browser
# tests (CJK fonts so their screenshots show Chinese), Dovecot for the IMAP tests (which start an
# instance of their own). Installed when missing and we may; otherwise says what is missing, and
# those tests skip (or fail, with MINQING_REQUIRE_SERVICES=1).
set -euo pipefail
packages=(chromium chromium-driver fonts-noto-cjk dovecot-imapd)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "tests: missing system packages: ${missing[*]} (install them with apt-get as root)" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get -qq -o DPkg::Lock::Timeout=300 update >/dev/null
apt-get -qq -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}" >/dev/null
