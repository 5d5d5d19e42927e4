#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs what vhdkit needs to build (meson, ninja, libntfs-3g, hivex) and what its tests compare against
# (qemu-img, libvhdi, sleuthkit, ntfs-3g tools, hivex tools). Debian; run as root (or with sudo).
set -e
pkgs="build-essential meson ninja-build pkg-config python3 ntfs-3g-dev libhivex-dev
      qemu-utils ntfs-3g sleuthkit libhivex-bin libvhdi-utils libvhdi-dev xz-utils clang time jq
      libregf-utils chntpw libwin-hivex-perl"
# libregf-utils (regfexport), chntpw (reged) and libwin-hivex-perl (hivexregedit): the registry peers of issue 5
# (tests/e2e/reg_peers.sh, reg_roundtrip.sh)
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
