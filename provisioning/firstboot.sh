#!/usr/bin/env bash
# Run by outpost-firstboot.service: applies outpost.conf from the SD card's boot partition
# (edited on any computer), then renames it outpost.conf.applied with its secrets removed and
# deletes a community file it named from the boot partition (the node keeps its own copy).
# On failure the file stays for the next boot, and the reason is written beside it to
# outpost-error.txt so the admin can read it from a computer.
#
#   firstboot.sh [--boot DIR]... [provision.sh flags...]   (--boot: where to look; tests)
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=provisioning/lib/conf.sh
. "$HERE/lib/conf.sh"

boot_dirs=()
extra=()
while [[ $# -gt 0 ]]; do
  if [[ $1 == --boot && $# -ge 2 ]]; then boot_dirs+=("$2"); shift 2; else extra+=("$1"); shift; fi
done
[[ ${#boot_dirs[@]} -gt 0 ]] || boot_dirs=(/boot/firmware /boot)

conf=
for d in "${boot_dirs[@]}"; do
  if [[ -f $d/outpost.conf ]]; then conf=$d/outpost.conf; break; fi
done
if [[ -z $conf ]]; then
  echo "no outpost.conf in ${boot_dirs[*]}: nothing to do"
  exit 0
fi
dir=$(dirname "$conf")

# the community file it names, when that file sits on the boot partition
community=
remember () { if [[ $1 == COMMUNITY ]]; then community=$2; fi; }
if ! conf_parse "$conf" remember 2> "$dir/outpost-error.txt"; then
  cat "$dir/outpost-error.txt" >&2
  exit 1
fi
[[ -z $community || $community == /* ]] || community=$dir/$community

# --no-block: outpost.service and outpost-dnsmasq.service are ordered after this boot unit, so
# waiting for their (re)start from in here would wait for ourselves
echo "applying $conf"
if ! "$HERE/provision.sh" --yes --no-block --from-conf "$conf" "${extra[@]}" 2> "$dir/outpost-error.txt"; then
  cat "$dir/outpost-error.txt" >&2
  echo "provisioning from $conf failed; see $dir/outpost-error.txt (it is retried at the next boot)" >&2
  exit 1
fi

conf_redact "$conf" > "$dir/outpost.conf.applied.new"
mv -f "$dir/outpost.conf.applied.new" "$dir/outpost.conf.applied"
rm -f "$conf" "$dir/outpost-error.txt"
if [[ -n $community && -f $community && $(cd "$(dirname "$community")" && pwd -P) == "$(cd "$dir" && pwd -P)" ]]; then
  rm -f "$community"
fi
sync
echo "applied $conf; kept as $dir/outpost.conf.applied without its secrets"
