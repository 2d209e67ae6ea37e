#!/usr/bin/env bash
# Undoes provision.sh: stops and removes the Outpost units, the firewall table, the access point
# profile, the dnsmasq config and /etc/outpost, and the code in /opt/outpost. Keeps the node's
# data (/var/lib/outpost: its keys and logs) and the service user unless --purge. Leaves the
# packages installed (they are ordinary Debian packages other software may use), the host name
# and the Wi-Fi country.
#
#   uninstall.sh [--yes] [--dry-run] [--purge] [--root DIR]
set -euo pipefail
export LC_ALL=C

ROOT='' DRY_RUN=no ASSUME_YES=no PURGE=no
while [[ $# -gt 0 ]]; do
  case $1 in
    --yes|-y) ASSUME_YES=yes; shift ;;
    --dry-run) DRY_RUN=yes; shift ;;
    --purge) PURGE=yes; shift ;;
    --root) [[ $# -ge 2 ]] || { echo "error: --root needs a directory" >&2; exit 2; }; ROOT=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [[ -z $ROOT && $DRY_RUN == no && $EUID -ne 0 ]]; then echo "error: run as root (sudo)" >&2; exit 2; fi
if [[ -n $ROOT ]]; then ROOT=$(cd "$ROOT" && pwd); fi

act () {
  if [[ $DRY_RUN == yes ]]; then echo "  would run: $*"; return 0; fi
  echo "  run: $*"
  "$@"
}
live () { [[ -z $ROOT ]] && command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; }

UNITS=(outpost.service outpost-dnsmasq.service outpost-hostapd.service outpost-nft.service outpost-firstboot.service)
FILES=(/etc/NetworkManager/system-connections/outpost-ap.nmconnection /etc/NetworkManager/system-connections/outpost-join.nmconnection
  /etc/NetworkManager/conf.d/90-outpost-unmanaged.conf
  /etc/modprobe.d/outpost-wifi-country.conf /usr/local/bin/outpost)
DIRS=(/etc/outpost /opt/outpost /usr/local/lib/outpost-node /var/lib/outpost-dnsmasq)
[[ $PURGE == yes ]] && DIRS+=(/var/lib/outpost)

echo "Removing Outpost$([[ $PURGE == yes ]] && echo ', including its data and keys' || echo ' (its data in /var/lib/outpost stays)')"
if [[ $ASSUME_YES == no && $DRY_RUN == no ]]; then
  read -r -p "Proceed? [y/N] " go || go=n
  [[ $go == y || $go == yes ]] || { echo "nothing changed"; exit 1; }
fi

if live; then
  for u in "${UNITS[@]}"; do
    if [[ -e /etc/systemd/system/$u ]]; then act systemctl disable --now "$u" || true; fi
  done
  if command -v nft >/dev/null && nft list table inet outpost >/dev/null 2>&1; then act nft delete table inet outpost; fi
  for id in outpost-ap outpost-join; do
    if command -v nmcli >/dev/null && nmcli -t -f NAME connection show 2>/dev/null | grep -qx "$id"; then
      act nmcli connection delete "$id" || true
    fi
  done
fi
for u in "${UNITS[@]}"; do FILES+=("/etc/systemd/system/$u"); done
for f in "${FILES[@]}"; do
  if [[ -e $ROOT$f ]]; then act rm -f "$ROOT$f"; fi
done
for d in "${DIRS[@]}"; do
  if [[ -e $ROOT$d ]]; then act rm -rf --one-file-system "$ROOT$d"; fi
done
if live; then
  act systemctl daemon-reload
  if command -v nmcli >/dev/null; then act nmcli general reload conf || true; fi
  if [[ $PURGE == yes ]] && getent passwd outpost >/dev/null; then act userdel outpost; fi
fi
echo "done"
