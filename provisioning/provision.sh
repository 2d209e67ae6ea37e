#!/usr/bin/env bash
# Turns a fresh Raspberry Pi OS (64-bit, Bookworm or Trixie) or Debian into an Outpost hotspot:
# packages, the `outpost` user, the node in /opt/outpost, its config, the access point, our own
# dnsmasq, our own nftables table and the systemd units. Idempotent: a second run with the same
# settings changes nothing. `--help` lists every flag; README.md "Deploy on a Raspberry Pi".
set -euo pipefail
export LC_ALL=C
umask 022

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=provisioning/lib/conf.sh
. "$HERE/lib/conf.sh"
# shellcheck source=provisioning/lib/render.sh
. "$HERE/lib/render.sh"
# shellcheck source=provisioning/lib/steps.sh
. "$HERE/lib/steps.sh"

# ---------------------------------------------------------------- settings and their defaults
# S_<KEY> mirrors outpost.conf's keys (lib/conf.sh); flags and files fill them in.
S_SSID=Outpost
S_PASSPHRASE=            # empty = open network
S_COUNTRY=
S_HOSTNAME=outpost
S_ADDRESS=10.42.0.1/24
S_INTERFACE=wlan0
S_AP=networkmanager
S_ROLE=hotspot
S_NAME=                  # default: the SSID
S_PORT=8080
S_SYNC_PORT=7707
S_LISTEN=0.0.0.0
S_COMMUNITY=
S_ADMIN_PASSWORD=
S_CHANNEL=6
S_BAND='bg'
S_DHCP_RANGE=            # default: computed from ADDRESS
S_LEASE_TIME=2h
S_CAPTIVE_API_URL=       # default: http://<address>/api/captive; none = no option 114
S_AP_ISOLATION=no
S_LAN=yes
S_SWARM=auto
S_WIFI_SSH=no
S_JOIN_WIFI=no           # relay: join the sites' hotspot Wi-Fi as a client

ROOT=                    # --root DIR: render under DIR, touch nothing else
DRY_RUN=no
ASSUME_YES=no
UPGRADE=no
SOURCE_DIR=$(cd "$HERE/.." && pwd)
NODE_BIN=                # --node-bin: use this node binary
NODE_TARBALL=            # --node-tarball: install Node from this official tarball (offline)
NODE_MAJOR=22            # official tarball major when the distribution's Node is too old
ADMIN_PASSWORD_FILE=
COMMUNITY_SRC=
FROM_CONF=()
PARSING_CONF=''
SET_BY=()                # keys given explicitly (flags or --from-conf), for the saved settings

PREFIX=/opt/outpost
ETC=/etc/outpost
STATE=/var/lib/outpost
SERVICE_USER=outpost

usage () {
  cat <<'USAGE'
Usage: provision.sh [options]

Turns this machine into an Outpost hotspot (run as root). Without --yes it asks before changing
anything. A second run with the same settings changes nothing; settings are remembered in
/etc/outpost/outpost.conf, so a later run only needs the flags that change.

Access point
  --ssid NAME              Wi-Fi name, 1-32 bytes (default Outpost)
  --passphrase TEXT        WPA2 passphrase, 8-63 characters; omit for an open network
  --country CC             Wi-Fi country, ISO 3166 code such as DE or KE (required for a hotspot)
  --interface IFACE        Wi-Fi interface serving phones (default wlan0)
  --ap MODE                networkmanager (default on Bookworm/Trixie) or hostapd
  --channel N              2.4 GHz channel 1-13 (default 6)
  --band BAND              bg (2.4 GHz, default) or a (5 GHz)
  --ap-isolation yes|no    stop Wi-Fi clients talking to each other (default no; driver-dependent)
  --join-wifi yes|no       relay only: join the sites' hotspot Wi-Fi (--ssid, --passphrase) as a
                           client wherever it is carried, and sync with the node there (default no;
                           needs NetworkManager)
Network
  --address IP/PREFIX      the node's address on the hotspot (default 10.42.0.1/24)
  --dhcp-range FIRST-LAST  addresses handed to phones (default .20-.250 of a /24)
  --lease-time TIME        DHCP lease time, dnsmasq syntax (default 2h)
  --captive-api-url URL    DHCP option 114 (RFC 8910); none to leave it out
                           (default http://<address>/api/captive; Android only uses https URLs)
  --hostname NAME          this machine's host name (default outpost)
  --wifi-ssh yes|no        allow ssh from Wi-Fi clients (default no; Ethernet is not filtered)
Node
  --role ROLE              hotspot (default) or relay (no access point, DHCP, DNS or firewall)
  --name NAME              node name shown to clients (default: the SSID)
  --port N                 node HTTP port, 1024-65535 (default 8080; port 80 is redirected to it)
  --sync-port N            node-to-node sync port (default 7707)
  --listen ADDR            node listen address (default 0.0.0.0; see README)
  --community FILE         community file to join (copied to /etc/outpost, readable by root and outpost only)
  --admin-password TEXT    admin password (stored as a scrypt hash); or --admin-password-file FILE
  --lan yes|no             LAN discovery of other nodes (default yes)
  --swarm auto|on|off      internet sync when an uplink appears (default auto)
Run
  --from-conf FILE         read settings from an outpost.conf file (flags given after win)
  --yes                    no questions
  --dry-run                print the plan, change nothing
  --root DIR               render every file under DIR instead of /; no packages, users,
                           services or network changes
  --upgrade                reinstall the node from this checkout and rebuild it; keeps data and settings
  --source DIR             the Outpost checkout to install (default: the one holding this script)
  --node-bin PATH          use this Node.js (>= 20) instead of finding or installing one
  --node-tarball FILE      install Node.js from this official linux tarball (offline installs)
  --no-block               start services without waiting for them (used at boot)
  -h, --help               this text
USAGE
}

die () { echo "error: $*" >&2; exit 2; }
say () { printf '%s\n' "$*"; }

# set_setting KEY VALUE WHERE: one setting from a flag or a file
set_setting () {
  local key=$1 value=$2
  if [[ $value == *$'\n'* || $value == *$'\r'* ]]; then
    echo "error: $3: $key must be one line" >&2
    return 1
  fi
  # a community file named in an outpost.conf is relative to that file
  if [[ $key == COMMUNITY && -n $value && $value != /* && -n $PARSING_CONF ]]; then
    value="$(cd "$(dirname "$PARSING_CONF")" && pwd)/$value"
  fi
  printf -v "S_$key" '%s' "$value"
  SET_BY+=("$key")
}

need_arg () { [[ $# -ge 2 ]] || die "$1 needs a value (see --help)"; }

parse_flags () {
  local flag key
  while [[ $# -gt 0 ]]; do
    flag=$1
    case $flag in
      -h|--help) usage; exit 0 ;;
      --yes|-y) ASSUME_YES=yes; shift; continue ;;
      --dry-run) DRY_RUN=yes; shift; continue ;;
      --upgrade) UPGRADE=yes; shift; continue ;;
      --no-block) SYSTEMCTL_WAIT=(--no-block); shift; continue ;;
      --root) need_arg "$@"; ROOT=$2; shift 2; continue ;;
      --source) need_arg "$@"; SOURCE_DIR=$2; shift 2; continue ;;
      --node-bin) need_arg "$@"; NODE_BIN=$2; shift 2; continue ;;
      --node-tarball) need_arg "$@"; NODE_TARBALL=$2; shift 2; continue ;;
      --admin-password-file) need_arg "$@"; ADMIN_PASSWORD_FILE=$2; shift 2; continue ;;
      --from-conf)
        need_arg "$@"
        FROM_CONF+=("$2")
        PARSING_CONF=$2
        conf_parse "$2" set_setting || exit 2
        PARSING_CONF=
        shift 2; continue ;;
      --*=*) die "write flags as '--flag value', not '$flag'" ;;
      --*)
        key=${flag#--}; key=${key//-/_}; key=${key^^}
        if ! conf_key_known "$key"; then
          die "unknown flag $flag (see --help)"
        fi
        need_arg "$@"
        set_setting "$key" "$2" "$flag" || exit 2
        shift 2 ;;
      *) die "unexpected argument '$flag' (see --help)" ;;
    esac
  done
}

# ---------------------------------------------------------------- validation
in_range () { [[ $1 =~ ^[0-9]{1,9}$ ]] && (( 10#$1 >= $2 && 10#$1 <= $3 )); }
is_yes_no () { [[ $1 == yes || $1 == no ]]; }

ip_to_int () {
  local IFS=. a b c d
  read -r a b c d <<<"$1"
  echo $(( (a << 24) | (b << 16) | (c << 8) | d ))
}
int_to_ip () { echo "$(( ($1 >> 24) & 255 )).$(( ($1 >> 16) & 255 )).$(( ($1 >> 8) & 255 )).$(( $1 & 255 ))"; }
valid_ipv4 () {
  [[ $1 =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] || return 1
  local part
  for part in "${BASH_REMATCH[@]:1}"; do
    [[ $part =~ ^(0|[1-9][0-9]*)$ ]] && (( part <= 255 )) || return 1
  done
}

validate_settings () {
  local bytes
  [[ $S_ROLE == hotspot || $S_ROLE == relay ]] || die "--role must be hotspot or relay, got '$S_ROLE'"
  [[ $S_AP == networkmanager || $S_AP == hostapd ]] || die "--ap must be networkmanager or hostapd, got '$S_AP'"
  bytes=$(printf '%s' "$S_SSID" | wc -c)
  (( bytes >= 1 && bytes <= 32 )) || die "--ssid must be 1-32 bytes, got $bytes"
  [[ $S_SSID != *[[:cntrl:]]* ]] || die "--ssid must not contain control characters"
  if [[ -n $S_PASSPHRASE ]]; then
    if [[ ! $S_PASSPHRASE =~ ^[0-9a-fA-F]{64}$ ]]; then
      (( ${#S_PASSPHRASE} >= 8 && ${#S_PASSPHRASE} <= 63 )) || die "--passphrase must be 8-63 characters (or 64 hex digits), got ${#S_PASSPHRASE}"
      [[ $S_PASSPHRASE =~ ^[\ -~]+$ ]] || die "--passphrase must be printable ASCII"
    fi
  fi
  if [[ $S_ROLE == hotspot ]]; then
    [[ -n $S_COUNTRY ]] || die "--country is required for a hotspot (the Wi-Fi stays blocked until it is set), e.g. --country DE"
  fi
  S_COUNTRY=${S_COUNTRY^^}
  [[ -z $S_COUNTRY || $S_COUNTRY =~ ^[A-Z]{2}$ ]] || die "--country must be a two-letter ISO 3166 code such as DE, got '$S_COUNTRY'"
  S_HOSTNAME=${S_HOSTNAME,,}
  [[ $S_HOSTNAME =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]] || die "--hostname must be letters, digits and '-' (1-63), got '$S_HOSTNAME'"
  [[ $S_INTERFACE =~ ^[A-Za-z0-9_.-]{1,15}$ ]] || die "--interface must be an interface name such as wlan0, got '$S_INTERFACE'"
  [[ $S_CHANNEL =~ ^[0-9]{1,3}$ ]] || die "--channel must be a number, got '$S_CHANNEL'"
  [[ $S_BAND == bg || $S_BAND == a ]] || die "--band must be bg or a, got '$S_BAND'"
  if [[ $S_BAND == bg ]]; then (( S_CHANNEL >= 1 && S_CHANNEL <= 13 )) || die "--channel must be 1-13 on band bg, got $S_CHANNEL"; fi
  is_yes_no "$S_AP_ISOLATION" || die "--ap-isolation must be yes or no"
  is_yes_no "$S_LAN" || die "--lan must be yes or no"
  is_yes_no "$S_WIFI_SSH" || die "--wifi-ssh must be yes or no"
  is_yes_no "$S_JOIN_WIFI" || die "--join-wifi must be yes or no"
  if [[ $S_JOIN_WIFI == yes && $S_ROLE != relay ]]; then
    die "--join-wifi is for a relay (--role relay): a hotspot's Wi-Fi serves phones"
  fi
  if [[ $S_JOIN_WIFI == yes && $S_AP == hostapd ]]; then
    die "--join-wifi needs NetworkManager (--ap networkmanager, the default)"
  fi
  [[ $S_SWARM =~ ^(auto|on|off)$ ]] || die "--swarm must be auto, on or off, got '$S_SWARM'"
  in_range "$S_PORT" 1024 65535 || die "--port must be 1024-65535 (port 80 is redirected to it), got '$S_PORT'"
  in_range "$S_SYNC_PORT" 1 65535 || die "--sync-port must be 1-65535, got '$S_SYNC_PORT'"
  S_PORT=$((10#$S_PORT)); S_SYNC_PORT=$((10#$S_SYNC_PORT)); S_CHANNEL=$((10#$S_CHANNEL))
  (( S_PORT != S_SYNC_PORT )) || die "--port and --sync-port must differ"
  valid_ipv4 "$S_LISTEN" || die "--listen must be an IPv4 address such as 0.0.0.0, got '$S_LISTEN'"
  [[ $S_LEASE_TIME =~ ^([0-9]+[smhdw]?|infinite)$ ]] || die "--lease-time must look like 2h, 30m or 3600, got '$S_LEASE_TIME'"
  [[ -z $S_NAME ]] && S_NAME=$S_SSID
  [[ $S_NAME != *[[:cntrl:]]* && ${#S_NAME} -le 64 ]] || die "--name must be at most 64 characters without control characters"

  # address and subnet
  [[ $S_ADDRESS == */* ]] || S_ADDRESS="$S_ADDRESS/24"
  ADDR=${S_ADDRESS%/*}
  PREFIXLEN=${S_ADDRESS#*/}
  valid_ipv4 "$ADDR" || die "--address must be IPv4/PREFIX such as 10.42.0.1/24, got '$S_ADDRESS'"
  in_range "$PREFIXLEN" 16 28 || die "--address prefix must be 16-28, got '/$PREFIXLEN'"
  local ip mask net bcast first last
  ip=$(ip_to_int "$ADDR")
  mask=$(( (0xffffffff << (32 - PREFIXLEN)) & 0xffffffff ))
  net=$(( ip & mask )); bcast=$(( net | (~mask & 0xffffffff) ))
  (( ip != net && ip != bcast )) || die "--address $ADDR is the network or broadcast address of /$PREFIXLEN"
  NETMASK=$(int_to_ip "$mask")
  SUBNET="$(int_to_ip "$net")/$PREFIXLEN"
  if [[ -z $S_DHCP_RANGE ]]; then
    if (( bcast - net > 64 )); then first=$(( net + 20 )); last=$(( bcast - 5 )); else first=$(( net + 2 )); last=$(( bcast - 1 )); fi
    if (( ip >= first && ip <= last )); then first=$(( ip + 1 )); fi
    S_DHCP_RANGE="$(int_to_ip "$first")-$(int_to_ip "$last")"
  fi
  [[ $S_DHCP_RANGE =~ ^([0-9.]+)-([0-9.]+)$ ]] || die "--dhcp-range must be FIRST-LAST, got '$S_DHCP_RANGE'"
  DHCP_FIRST=${BASH_REMATCH[1]}; DHCP_LAST=${BASH_REMATCH[2]}
  { valid_ipv4 "$DHCP_FIRST" && valid_ipv4 "$DHCP_LAST"; } || die "--dhcp-range must hold two IPv4 addresses, got '$S_DHCP_RANGE'"
  first=$(ip_to_int "$DHCP_FIRST"); last=$(ip_to_int "$DHCP_LAST")
  (( first > net && last < bcast && first <= last && (first & mask) == net )) || die "--dhcp-range $S_DHCP_RANGE must lie inside $SUBNET"
  (( ip < first || ip > last )) || die "--dhcp-range $S_DHCP_RANGE must not contain the node's address $ADDR"
  LEASE_MAX=$(( last - first + 1 ))

  if [[ -z $S_CAPTIVE_API_URL ]]; then CAPTIVE_URL="http://$ADDR/api/captive"
  elif [[ $S_CAPTIVE_API_URL == none ]]; then CAPTIVE_URL=
  else CAPTIVE_URL=$S_CAPTIVE_API_URL
  fi
  if [[ -n $CAPTIVE_URL ]]; then
    [[ $CAPTIVE_URL =~ ^https?://[A-Za-z0-9._~:/?#@!\$\&\'\(\)*+,\;=%-]+$ && ${#CAPTIVE_URL} -le 255 ]] || die "--captive-api-url must be an http(s) URL of at most 255 characters without spaces or quotes"
  fi

  if [[ -n $S_COMMUNITY ]]; then
    COMMUNITY_SRC=$S_COMMUNITY
    # the copy an earlier run installed (named in the saved settings) lives under --root too
    [[ -n $ROOT && $S_COMMUNITY == "$ETC/community.json" ]] && COMMUNITY_SRC=$ROOT$S_COMMUNITY
    [[ -f $COMMUNITY_SRC && -r $COMMUNITY_SRC ]] || die "--community: no readable file $COMMUNITY_SRC"
    # a relay is carried around and may sit in a cloud: it must never hold the community secret
    if [[ $S_ROLE == relay ]] && grep -q '"secretKey"' "$COMMUNITY_SRC"; then
      die "--community: a relay takes the public community file (outpost community show --public --community FILE --out PUBLIC), not one holding the secret"
    fi
  elif [[ $S_ROLE == relay ]]; then
    die "--community is required for a relay (the public file: outpost community show --public --community FILE --out PUBLIC)"
  fi
  if [[ -n $ADMIN_PASSWORD_FILE ]]; then
    [[ -f $ADMIN_PASSWORD_FILE && -r $ADMIN_PASSWORD_FILE ]] || die "--admin-password-file: no readable file $ADMIN_PASSWORD_FILE"
    IFS= read -r S_ADMIN_PASSWORD < "$ADMIN_PASSWORD_FILE" || true
    [[ -n $S_ADMIN_PASSWORD ]] || die "--admin-password-file $ADMIN_PASSWORD_FILE is empty"
  fi
  if [[ -n $S_ADMIN_PASSWORD ]]; then
    (( ${#S_ADMIN_PASSWORD} >= 8 )) || die "--admin-password must be at least 8 characters"
  fi
  [[ -d $SOURCE_DIR && -f $SOURCE_DIR/package.json ]] || die "--source $SOURCE_DIR is not an Outpost checkout"
}

# ---------------------------------------------------------------- prompts
ask () { # ask VAR "question" default
  local answer
  read -r -p "$2 [$3]: " answer || die "no answer (use --yes with flags to run unattended)"
  printf -v "$1" '%s' "${answer:-$3}"
}

prompt_missing () {
  [[ $ASSUME_YES == yes || $DRY_RUN == yes ]] && return 0
  [[ -t 0 ]] || die "not a terminal: pass --yes (with the settings as flags) to run unattended"
  if [[ $S_ROLE == hotspot ]]; then
    [[ " ${SET_BY[*]} " == *" SSID "* ]] || ask S_SSID "Wi-Fi name (SSID)" "$S_SSID"
    [[ -n $S_COUNTRY ]] || ask S_COUNTRY "Wi-Fi country code (e.g. DE, KE, US)" ""
    if [[ " ${SET_BY[*]} " != *" PASSPHRASE "* ]]; then
      read -r -s -p "WPA2 passphrase (8-63 characters; empty = open network): " S_PASSPHRASE || true
      echo
    fi
  elif [[ $S_JOIN_WIFI == yes ]]; then
    [[ " ${SET_BY[*]} " == *" SSID "* ]] || ask S_SSID "Wi-Fi name (SSID) of the sites' hotspots" "$S_SSID"
    if [[ " ${SET_BY[*]} " != *" PASSPHRASE "* ]]; then
      read -r -s -p "Their WPA2 passphrase (empty = open network): " S_PASSPHRASE || true
      echo
    fi
  fi
}

# ---------------------------------------------------------------- main
main () {
  parse_flags "$@"
  if [[ -n $ROOT ]]; then
    ROOT=$(realpath -m -- "$ROOT")
    [[ $ROOT != / ]] || die "--root / is the real system: leave --root out instead"
  fi
  if [[ -z $ROOT && $DRY_RUN == no && $EUID -ne 0 ]]; then
    die "run as root (sudo), or use --dry-run / --root DIR"
  fi
  load_saved_settings
  validate_settings
  prompt_missing
  validate_settings
  choose_node
  print_plan
  if [[ $ASSUME_YES == no && $DRY_RUN == no ]]; then
    local go
    read -r -p "Proceed? [y/N] " go || go=n
    [[ $go == y || $go == Y || $go == yes ]] || { say "nothing changed"; exit 1; }
  fi
  provision
}

# Settings remembered by an earlier run: the base that flags and --from-conf override.
# The Wi-Fi passphrase is kept apart (0600 root), like the NetworkManager profile holding it.
load_saved_settings () {
  local saved="${ROOT}$ETC/outpost.conf" secrets="${ROOT}$ETC/secrets.conf" k v
  local -A now=()
  [[ -f $saved || -f $secrets ]] || return 0
  # what this run was given wins over what was saved
  for k in "${SET_BY[@]}"; do v="S_$k"; now[$k]=${!v}; done
  if [[ -f $saved ]]; then conf_parse "$saved" set_setting || die "$saved is damaged; fix or delete it"; fi
  if [[ -f $secrets ]]; then conf_parse "$secrets" set_setting || die "$secrets is damaged; fix or delete it"; fi
  for k in "${!now[@]}"; do printf -v "S_$k" '%s' "${now[$k]}"; done
}

main_guard=${OUTPOST_PROVISION_NO_MAIN:-}
if [[ -z $main_guard ]]; then
  main "$@"
fi
