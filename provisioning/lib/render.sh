# shellcheck shell=bash
# The files provision.sh writes, and how it writes them: compare first, write only what
# differs (atomically, with its mode and owner), and remember what changed so only the
# affected services are restarted. Sourced by provision.sh; uses its S_* settings.

CHANGED=()
UNCHANGED=()
DNSMASQ_LEASES=/var/lib/outpost-dnsmasq/dnsmasq.leases
LAST_CHANGED=no

octal () { printf '%o' $((8#$1)); }

# put_file PATH MODE OWNER:GROUP < content
put_file () {
  local dest=$1 mode=$2 owner=$3 target="${ROOT}$1" tmp dir
  tmp=$(mktemp)
  cat > "$tmp"
  LAST_CHANGED=yes
  if [[ -f $target ]] && cmp -s "$tmp" "$target" && [[ $(stat -c %a "$target") == "$(octal "$mode")" ]] &&
     { [[ -n $ROOT ]] || [[ $(stat -c %U:%G "$target") == "$owner" ]]; }; then
    LAST_CHANGED=no
  fi
  if [[ $LAST_CHANGED == no ]]; then
    UNCHANGED+=("$dest")
    say "  unchanged  $dest"
  elif [[ $DRY_RUN == yes ]]; then
    CHANGED+=("$dest")
    if [[ -f $target ]]; then say "  would update $dest"; else say "  would create $dest"; fi
  else
    dir=$(dirname "$target")
    mkdir -p "$dir"
    if [[ -n $ROOT ]]; then
      install -m "$mode" "$tmp" "$target.outpost-new"
    else
      install -m "$mode" -o "${owner%%:*}" -g "${owner#*:}" "$tmp" "$target.outpost-new"
    fi
    mv -f "$target.outpost-new" "$target"
    CHANGED+=("$dest")
    say "  wrote      $dest"
  fi
  rm -f "$tmp"
}

# retire_file PATH: remove a file an earlier run wrote for a mode no longer chosen
retire_file () {
  local target="${ROOT}$1"
  [[ -e $target ]] || return 0
  CHANGED+=("$1")
  if [[ $DRY_RUN == yes ]]; then say "  would remove $1"; else rm -f "$target"; say "  removed    $1"; fi
}

changed () { # changed PATH...: did any of these change on this run?
  local p c
  for p in "$@"; do for c in "${CHANGED[@]}"; do [[ $c == "$p" ]] && return 0; done; done
  return 1
}

# run CMD...: executes on a real run, prints under --dry-run, skips under --root
run () {
  if [[ -n $ROOT ]]; then return 0; fi
  if [[ $DRY_RUN == yes ]]; then say "  would run: $*"; return 0; fi
  say "  run: $*"
  "$@"
}

# ---------------------------------------------------------------- escaping
json_str () {
  local s=$1
  s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\t'/\\t}
  printf '"%s"' "$s"
}

# a GLib keyfile value: backslash escaped, leading/trailing blanks kept with \s
keyfile_value () {
  local s=${1//\\/\\\\}
  [[ ${s:0:1} == ' ' ]] && s="\\s${s:1}"
  [[ ${s: -1} == ' ' ]] && s="${s:0:${#s}-1}\\s"
  printf '%s' "$s"
}

# NetworkManager's keyfile reads an SSID as text, or as a byte list (`79;117;116;`) when it
# holds characters the text form would bend (';', '\', blanks at the ends, non-ASCII).
keyfile_ssid () {
  if [[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9\ _.,:!@#%+=()\'-]*$ && ${1: -1} != ' ' ]]; then
    printf '%s' "$1"
  else
    local b out=
    for b in $(printf '%s' "$1" | od -An -v -tu1); do out+="$b;"; done
    printf '%s' "$out"
  fi
}

hex_of () { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }

# ---------------------------------------------------------------- the files
render_node_config () {
  printf '{\n'
  printf '  "host": %s,\n' "$(json_str "$S_LISTEN")"
  printf '  "port": %s,\n' "$S_PORT"
  printf '  "dataDir": %s,\n' "$(json_str "$STATE")"
  printf '  "name": %s,\n' "$(json_str "$S_NAME")"
  printf '  "role": %s,\n' "$(json_str "$S_ROLE")"
  if [[ -n $S_COMMUNITY ]]; then printf '  "community": %s,\n' "$(json_str "$ETC/community.json")"; fi
  # the admin view's password: set now, or by an earlier run (the hash stays, the password is never saved)
  if [[ -n $S_ADMIN_PASSWORD || -f ${ROOT}$ETC/admin-password.scrypt ]]; then
    printf '  "adminPasswordFile": %s,\n' "$(json_str "$ETC/admin-password.scrypt")"
  fi
  printf '  "syncPort": %s,\n' "$S_SYNC_PORT"
  printf '  "lan": %s,\n' "$([[ $S_LAN == yes ]] && echo true || echo false)"
  printf '  "swarm": %s,\n' "$(json_str "$S_SWARM")"
  if [[ $S_ROLE == hotspot ]]; then
    # a default route through the access point is never an uplink (swarm auto); with
    # --interface wlan1 the built-in wlan0 may well be the uplink
    printf '  "apInterface": %s,\n' "$(json_str "$S_INTERFACE")"
    # the captive portal sends phones to the node's address on port 80 (nft redirects it), and
    # finds their MAC addresses in our dnsmasq's leases
    printf '  "portal": {\n'
    printf '    "address": %s,\n' "$(json_str "$ADDR")"
    printf '    "port": 80,\n'
    printf '    "hostnames": [%s],\n' "$(json_str "$S_HOSTNAME.home.arpa")"
    printf '    "leasesFile": %s\n' "$(json_str "$DNSMASQ_LEASES")"
    printf '  },\n'
  fi
  printf '  "logPretty": false\n'
  printf '}\n'
}

render_dnsmasq () {
  cat <<EOF
# Outpost's own dnsmasq (outpost-dnsmasq.service), written by provision.sh: edits are replaced.
# DHCP for the hotspot with the node as router and DNS; every name resolves to the node.
interface=$S_INTERFACE
bind-dynamic
except-interface=lo
no-resolv
no-hosts
domain-needed
bogus-priv
dhcp-authoritative
pid-file=/run/outpost-dnsmasq/dnsmasq.pid
dhcp-leasefile=$DNSMASQ_LEASES
dhcp-range=$DHCP_FIRST,$DHCP_LAST,$NETMASK,$S_LEASE_TIME
dhcp-lease-max=$LEASE_MAX
dhcp-option=option:router,$ADDR
dhcp-option=option:dns-server,$ADDR
EOF
  if [[ -n $CAPTIVE_URL ]]; then
    printf '# RFC 8910 captive portal API (Android only follows https URLs with a trusted certificate)\n'
    printf 'dhcp-option-force=114,"%s"\n' "$CAPTIVE_URL"
  fi
  cat <<EOF
# Windows checks this name's address before its HTTP probe
address=/dns.msftncsi.com/131.107.255.255
address=/$S_HOSTNAME.home.arpa/$ADDR
address=/#/$ADDR
EOF
}

render_nft () {
  local ssh='' mdns=''
  [[ $S_WIFI_SSH == yes ]] && ssh=", 22"
  [[ $S_LAN == yes ]] && mdns=", 5353"
  cat <<EOF
#!/usr/sbin/nft -f
# Outpost's own table (outpost-nft.service), written by provision.sh: edits are replaced.
# Never 'flush ruleset': other tables (NetworkManager's, Docker's, the admin's) stay as they are.
table inet outpost
delete table inet outpost
table inet outpost {
  chain captive_nat {
    type nat hook prerouting priority dstnat; policy accept;
    # any http:// address a phone opens lands on the node
    iifname "$S_INTERFACE" tcp dport 80 redirect to :$S_PORT
  }
  chain fail_fast {
    type filter hook prerouting priority -150; policy accept;
    # https to anywhere else cannot work offline: reset at once instead of a long timeout
    iifname "$S_INTERFACE" fib daddr type != local tcp dport 443 reject with tcp reset
    iifname "$S_INTERFACE" fib daddr type != local udp dport 443 reject
  }
  chain wifi_in {
    type filter hook input priority filter; policy accept;
    iifname != "$S_INTERFACE" accept
    ct state established,related accept
    udp dport { 53, 67$mdns } accept
    tcp dport { 53, $S_PORT, $S_SYNC_PORT$ssh } accept
    meta l4proto { icmp, ipv6-icmp } accept
    meta l4proto tcp reject with tcp reset
    reject
  }
  chain wifi_forward {
    type filter hook forward priority filter; policy accept;
    # offline hotspot: nothing is routed for Wi-Fi clients
    iifname "$S_INTERFACE" reject
  }
}
EOF
}

# the [connection] part of our Wi-Fi profiles: render_nm_connection ID UUID COMMENT EXTRA-KEY
render_nm_connection () {
  cat <<EOF
# $3, written by provision.sh: edits are replaced on the next run.
[connection]
id=$1
uuid=$2
type=wifi
interface-name=$S_INTERFACE
autoconnect=true
$4
EOF
}

render_nm_keyfile () { # render_nm_keyfile UUID
  render_nm_connection outpost-ap "$1" 'Outpost access point' autoconnect-priority=100
  cat <<EOF

[wifi]
mode=ap
ssid=$(keyfile_ssid "$S_SSID")
band=$S_BAND
channel=$S_CHANNEL
powersave=2
ap-isolation=$([[ $S_AP_ISOLATION == yes ]] && echo 1 || echo 0)
EOF
  if [[ -n $S_PASSPHRASE ]]; then
    cat <<EOF

[wifi-security]
key-mgmt=wpa-psk
proto=rsn
pairwise=ccmp
group=ccmp
psk=$(keyfile_value "$S_PASSPHRASE")
EOF
  fi
  cat <<EOF

[ipv4]
method=manual
address1=$ADDR/$PREFIXLEN
never-default=true

[ipv6]
method=disabled
EOF
}

# A relay's Wi-Fi client profile: it joins the sites' hotspot wherever it is carried (the
# hotspots of a community share SSID and passphrase). The hotspot is offline and answers every
# DNS name with itself, so the link never becomes the default route nor supplies DNS: a relay
# with an uplink of its own keeps it. Retries forever: a relay spends most of its life between sites.
render_nm_join_keyfile () { # render_nm_join_keyfile UUID
  render_nm_connection outpost-join "$1" "Outpost relay: joins the sites' hotspot Wi-Fi" autoconnect-retries=0
  cat <<EOF

[wifi]
mode=infrastructure
ssid=$(keyfile_ssid "$S_SSID")
EOF
  if [[ -n $S_PASSPHRASE ]]; then
    cat <<EOF

[wifi-security]
key-mgmt=wpa-psk
psk=$(keyfile_value "$S_PASSPHRASE")
EOF
  fi
  cat <<EOF

[ipv4]
method=auto
never-default=true
ignore-auto-dns=true

[ipv6]
method=disabled
EOF
}

render_hostapd () {
  cat <<EOF
# Outpost access point (outpost-hostapd.service), written by provision.sh: edits are replaced.
interface=$S_INTERFACE
driver=nl80211
ctrl_interface=/run/outpost-hostapd
country_code=$S_COUNTRY
ieee80211d=1
hw_mode=$([[ $S_BAND == a ]] && echo a || echo g)
channel=$S_CHANNEL
ieee80211n=1
wmm_enabled=1
# the SSID in hex, so any byte in it is safe
ssid2=$(hex_of "$S_SSID")
utf8_ssid=1
ap_isolate=$([[ $S_AP_ISOLATION == yes ]] && echo 1 || echo 0)
max_num_sta=$LEASE_MAX
auth_algs=1
ignore_broadcast_ssid=0
EOF
  if [[ -n $S_PASSPHRASE ]]; then
    cat <<EOF
wpa=2
wpa_key_mgmt=WPA-PSK
rsn_pairwise=CCMP
EOF
    if [[ $S_PASSPHRASE =~ ^[0-9a-fA-F]{64}$ ]]; then printf 'wpa_psk=%s\n' "$S_PASSPHRASE"
    else printf 'wpa_passphrase=%s\n' "$S_PASSPHRASE"
    fi
  fi
}

render_nm_unmanaged () {
  cat <<EOF
# Outpost: hostapd runs the access point on $S_INTERFACE, so NetworkManager leaves it alone.
[keyfile]
unmanaged-devices=interface-name:$S_INTERFACE
EOF
}

render_regdom () {
  cat <<EOF
# Outpost: Wi-Fi regulatory country (the radio stays blocked on Raspberry Pi OS until it is set)
options cfg80211 ieee80211_regdom=$S_COUNTRY
EOF
}

# /usr/local/bin/outpost: the command line with the Node.js the service runs (which may not be on
# PATH: /usr/local/lib/outpost-node on Bookworm)
render_cli_wrapper () {
  cat <<EOF
#!/bin/sh
# Outpost's command line (outpost help), written by provision.sh: edits are replaced.
# Commands that write into the node's data dir run as its user, e.g.
#   sudo -u $SERVICE_USER outpost community request --data $STATE
exec $NODE_BIN $PREFIX/bin/outpost.js "\$@"
EOF
}

# render_unit NAME: a unit from systemd/ with this machine's paths filled in
render_unit () {
  sed -e "s|@NODE@|$NODE_BIN|g" -e "s|@PREFIX@|$PREFIX|g" -e "s|@ETC@|$ETC|g" \
      -e "s|@INTERFACE@|$S_INTERFACE|g" -e "s|@ADDRESS@|$ADDR/$PREFIXLEN|g" \
      "$SOURCE_DIR/systemd/$1"
}

# the settings a later run starts from (no secrets: those stay in secrets.conf)
render_saved_settings () {
  local k v
  printf '# Settings of the last provision.sh run (outpost.conf format). A later run starts from\n'
  printf '# these; flags override them. The Wi-Fi passphrase is in secrets.conf.\n'
  for k in "${OUTPOST_CONF_KEYS[@]}"; do
    conf_key_secret "$k" && continue
    v="S_$k"
    if [[ $k == COMMUNITY && -n $S_COMMUNITY ]]; then printf 'COMMUNITY="%s"\n' "$ETC/community.json"; continue; fi
    # quoted, so blanks at the ends survive (the reader removes exactly one pair)
    printf '%s="%s"\n' "$k" "${!v}"
  done
}

render_secrets () {
  printf '# Outpost secrets (outpost.conf format), root only.\n'
  printf 'PASSPHRASE="%s"\n' "$S_PASSPHRASE"
}

render_hosts () { # render_hosts < existing /etc/hosts
  local line done=no
  while IFS= read -r line || [[ -n $line ]]; do
    if [[ $line =~ ^127\.0\.1\.1[[:space:]] ]]; then
      [[ $done == no ]] && printf '127.0.1.1\t%s\n' "$S_HOSTNAME"
      done=yes
    else
      printf '%s\n' "$line"
    fi
  done
  if [[ $done == no ]]; then printf '127.0.1.1\t%s\n' "$S_HOSTNAME"; fi
}

# the UUID of an existing profile is kept, so a second run writes the same file
nm_uuid () { # nm_uuid [ID]: outpost-ap (default) or outpost-join
  local f="${ROOT}/etc/NetworkManager/system-connections/${1:-outpost-ap}.nmconnection" u=
  if [[ -f $f ]]; then u=$(sed -n 's/^uuid=\([0-9a-f-]\{36\}\)$/\1/p' "$f" | head -n1); fi
  [[ -n $u ]] || u=$(cat /proc/sys/kernel/random/uuid)
  printf '%s' "$u"
}

# the hash of the admin password: kept when it already matches, so a second run writes nothing
admin_hash () {
  local existing="${ROOT}$ETC/admin-password.scrypt" node=$NODE_BIN
  [[ -x $node ]] || node=$(command -v node) || die "Node.js is needed to hash the admin password"
  printf '%s' "$S_ADMIN_PASSWORD" | "$node" "$HERE/lib/hash-password.mjs" "$existing"
}
