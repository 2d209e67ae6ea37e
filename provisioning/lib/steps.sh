# shellcheck shell=bash
# What provision.sh does, step by step. Every step honours --dry-run (print) and --root (files
# only, under DIR). Sourced by provision.sh.

NODE_PLAN=present        # present | apt | tarball
# at boot (firstboot.sh) the units wait for us, so we must not wait for them
SYSTEMCTL_WAIT=()
NODE_RUNTIME_DIR=/usr/local/lib/outpost-node
CODE_CHANGED=no

node_major () { "$1" -e 'process.stdout.write(process.versions.node.split(".")[0])' 2>/dev/null || echo 0; }

# Node >= 20: the given one, the one on PATH, the distribution's (Trixie: 20), or else the
# official tarball from nodejs.org (Bookworm ships 18), checksum-verified.
choose_node () {
  local candidate major
  if [[ -n $NODE_BIN ]]; then
    [[ $NODE_BIN =~ ^/[A-Za-z0-9/._+-]+$ ]] || die "--node-bin must be an absolute path, got '$NODE_BIN'"
    [[ -x $NODE_BIN ]] || die "--node-bin $NODE_BIN is not executable"
    major=$(node_major "$NODE_BIN")
    (( major >= 20 )) || die "--node-bin $NODE_BIN is Node $major; Outpost needs Node 20 or newer"
    return 0
  fi
  if [[ -n $NODE_TARBALL ]]; then
    [[ -f $NODE_TARBALL ]] || die "--node-tarball: no file $NODE_TARBALL"
    NODE_PLAN=tarball; NODE_BIN=$NODE_RUNTIME_DIR/current/bin/node; return 0
  fi
  if [[ -x $NODE_RUNTIME_DIR/current/bin/node ]] && (( $(node_major "$NODE_RUNTIME_DIR/current/bin/node") >= 20 )); then
    NODE_BIN=$NODE_RUNTIME_DIR/current/bin/node; return 0
  fi
  for candidate in /usr/bin/node /usr/local/bin/node; do
    if [[ -x $candidate ]] && (( $(node_major "$candidate") >= 20 )); then NODE_BIN=$candidate; return 0; fi
  done
  if [[ -z $ROOT ]] && command -v apt-cache >/dev/null; then
    candidate=$(apt-cache policy nodejs 2>/dev/null | sed -n 's/^ *Candidate: *\([0-9]*:\)\{0,1\}\([0-9]*\).*/\2/p')
    if [[ -n $candidate ]] && (( candidate >= 20 )); then NODE_PLAN=apt; NODE_BIN=/usr/bin/node; return 0; fi
  fi
  NODE_PLAN=tarball
  NODE_BIN=$NODE_RUNTIME_DIR/current/bin/node
}

print_plan () {
  local pass
  if [[ -z $S_PASSPHRASE ]]; then pass='none (open network)'; else pass="set (${#S_PASSPHRASE} characters)"; fi
  say "Outpost provisioning plan"
  [[ -n $ROOT ]] && say "  rendering files under $ROOT only (no packages, users, services or network)"
  [[ $DRY_RUN == yes ]] && say "  dry run: nothing is changed"
  say "  role:          $S_ROLE"
  say "  node:          $S_NAME, http $S_LISTEN:$S_PORT, sync port $S_SYNC_PORT, lan $S_LAN, swarm $S_SWARM"
  say "  node code:     $SOURCE_DIR -> $PREFIX$([[ $UPGRADE == yes ]] && echo ' (upgrade: reinstall and rebuild)')"
  case $NODE_PLAN in
    present) say "  Node.js:       $NODE_BIN" ;;
    apt) say "  Node.js:       the distribution's nodejs package" ;;
    tarball) say "  Node.js:       official $([[ -n $NODE_TARBALL ]] && echo "tarball $NODE_TARBALL" || echo "v$NODE_MAJOR tarball from nodejs.org") -> $NODE_RUNTIME_DIR" ;;
  esac
  say "  community:     ${S_COMMUNITY:-none (a private community of its own)}"
  say "  admin password: $([[ -n $S_ADMIN_PASSWORD ]] && echo 'set (stored as a scrypt hash)' || echo 'unchanged')"
  say "  hostname:      $S_HOSTNAME"
  if [[ $S_ROLE == hotspot ]]; then
    say "  access point:  '$S_SSID' on $S_INTERFACE via $S_AP, country $S_COUNTRY, band $S_BAND channel $S_CHANNEL, passphrase $pass"
    say "  address:       $ADDR/$PREFIXLEN, DHCP $DHCP_FIRST-$DHCP_LAST ($S_LEASE_TIME), every name -> $ADDR"
    say "  option 114:    ${CAPTIVE_URL:-none}"
    say "  firewall:      table inet outpost: $S_INTERFACE port 80 -> $S_PORT, 443 elsewhere reset, other ports closed$([[ $S_WIFI_SSH == yes ]] && echo ' (ssh open)')"
  elif [[ $S_JOIN_WIFI == yes ]]; then
    say "  Wi-Fi:         joins '$S_SSID' on $S_INTERFACE as a client wherever it is (passphrase $pass), never as default route or DNS"
  else
    say "  Wi-Fi:         not configured by Outpost (--join-wifi yes to join the sites' hotspots)"
  fi
}

# ---------------------------------------------------------------- packages
wanted_packages () {
  local p=(rsync ca-certificates build-essential python3 libsecp256k1-dev libatomic1)
  if [[ $S_ROLE == hotspot ]]; then
    p+=(dnsmasq-base nftables iw rfkill)
    if [[ $S_AP == hostapd ]]; then p+=(hostapd); else p+=(network-manager); fi
  elif [[ $S_JOIN_WIFI == yes ]]; then
    p+=(network-manager rfkill)
  fi
  case $NODE_PLAN in
    apt) p+=(nodejs npm) ;;
    tarball) p+=(curl xz-utils) ;;
  esac
  printf '%s\n' "${p[@]}"
}

install_packages () {
  local missing=() p
  say "packages"
  if [[ -n $ROOT ]]; then say "  skipped under --root"; return 0; fi
  while IFS= read -r p; do
    [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) == 'install ok installed' ]] || missing+=("$p")
  done < <(wanted_packages)
  if [[ ${#missing[@]} -eq 0 ]]; then say "  unchanged  all installed"; return 0; fi
  CHANGED+=("packages: ${missing[*]}")
  run apt-get update -q
  # only dnsmasq-base: the dnsmasq package would start the distribution's service on port 53
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

install_node_runtime () {
  [[ $NODE_PLAN == tarball ]] || return 0
  say "Node.js runtime"
  if [[ -n $ROOT ]]; then say "  skipped under --root"; return 0; fi
  if [[ $DRY_RUN == yes ]]; then say "  would install the official Node.js tarball into $NODE_RUNTIME_DIR"; return 0; fi
  local arch tarball work dir
  case $(uname -m) in
    aarch64|arm64) arch=arm64 ;;
    x86_64) arch=x64 ;;
    *) die "this is a $(uname -m) system: Outpost needs a 64-bit OS (arm64 or x86_64)" ;;
  esac
  work=$(mktemp -d)
  if [[ -n $NODE_TARBALL ]]; then
    tarball=$NODE_TARBALL
  else
    local base="https://nodejs.org/dist/latest-v$NODE_MAJOR.x" name
    curl -fsSL "$base/SHASUMS256.txt" -o "$work/SHASUMS256.txt" || die "cannot reach nodejs.org: install Node.js 20+ yourself, or pass --node-tarball FILE"
    name=$(sed -n "s/^[0-9a-f]\{64\}  \(node-v[0-9.]*-linux-$arch\.tar\.xz\)$/\1/p" "$work/SHASUMS256.txt" | head -n1)
    [[ -n $name ]] || die "no linux-$arch tarball listed in $base/SHASUMS256.txt"
    curl -fsSL "$base/$name" -o "$work/$name"
    (cd "$work" && grep "  $name\$" SHASUMS256.txt | sha256sum -c --quiet -) || die "checksum mismatch for $name"
    tarball=$work/$name
  fi
  mkdir -p "$NODE_RUNTIME_DIR"
  dir=$(tar -tf "$tarball" | head -n1); dir=${dir%%/*}
  [[ $dir =~ ^node-v[0-9.]+-linux-(arm64|x64)$ ]] || die "$tarball is not an official Node.js linux tarball"
  tar -xf "$tarball" -C "$NODE_RUNTIME_DIR"
  ln -sfn "$dir" "$NODE_RUNTIME_DIR/current"
  rm -rf "$work"
  (( $(node_major "$NODE_RUNTIME_DIR/current/bin/node") >= 20 )) || die "the installed Node.js is older than 20"
  CHANGED+=("node runtime $dir")
  say "  installed  $NODE_RUNTIME_DIR/$dir"
}

create_user () {
  say "service user"
  if [[ -n $ROOT ]]; then say "  skipped under --root"; return 0; fi
  if getent passwd "$SERVICE_USER" >/dev/null; then say "  unchanged  $SERVICE_USER"; return 0; fi
  CHANGED+=("user $SERVICE_USER")
  run useradd --system --user-group --home-dir "$STATE" --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
}

# The node's code: a copy of this checkout in /opt/outpost, built there (the build needs the
# dev dependencies: TypeScript, and the web client's bundler), then pruned to runtime ones.
install_code () {
  local changes npm
  say "node code"
  if [[ -n $ROOT ]]; then say "  skipped under --root"; return 0; fi
  if [[ ! -d $PREFIX || $(cd "$SOURCE_DIR" && pwd -P) != "$(cd "$PREFIX" && pwd -P)" ]]; then
    if [[ $DRY_RUN == yes && ! -d $PREFIX ]]; then
      changes="new install"
    elif [[ $DRY_RUN == yes ]]; then
      changes=$(rsync -a --delete --dry-run --itemize-changes "${RSYNC_EXCLUDES[@]}" "$SOURCE_DIR/" "$PREFIX/")
    else
      mkdir -p "$PREFIX"
      changes=$(rsync -a --delete --itemize-changes --chown=root:root "${RSYNC_EXCLUDES[@]}" "$SOURCE_DIR/" "$PREFIX/")
    fi
    # a directory whose only change is its time (the build writes into /opt/outpost) is no change
    if [[ -n $changes ]] && grep -qv '^\.d' <<<"$changes"; then CODE_CHANGED=yes; fi
  fi
  if [[ ! -f $PREFIX/dist/cli/main.js || ! -d $PREFIX/node_modules ]]; then CODE_CHANGED=yes; fi
  [[ $UPGRADE == yes ]] && CODE_CHANGED=yes
  if [[ $CODE_CHANGED == no ]]; then say "  unchanged  $PREFIX"; return 0; fi
  CHANGED+=("$PREFIX")
  npm="$(dirname "$NODE_BIN")/npm"
  [[ -x $npm || $DRY_RUN == yes ]] || npm=$(command -v npm)
  # `npm install` with the committed lock installs the locked versions and runs `prepare`: the
  # native verifier, the TypeScript build and the web client. (`npm ci` rejects our lock: it
  # lacks the optional rollup binaries of platforms the registry used to make it did not serve.)
  run env PATH="$(dirname "$NODE_BIN"):$PATH" npm_config_update_notifier=false "$npm" --prefix "$PREFIX" install --no-audit --no-fund
  run env PATH="$(dirname "$NODE_BIN"):$PATH" npm_config_update_notifier=false "$npm" --prefix "$PREFIX" prune --omit=dev --no-audit --no-fund
}
RSYNC_EXCLUDES=(--exclude=/.git --exclude=/node_modules --exclude=/dist --exclude=/native/build
  --exclude=/data --exclude=/bench-results --exclude=/.tap --exclude=/coverage)

# ---------------------------------------------------------------- files
write_files () {
  say "files"
  put_file "$ETC/config.json" 0640 "root:$SERVICE_USER" < <(render_node_config)
  local node_inputs=("$ETC/config.json")
  if [[ -n $S_COMMUNITY ]]; then
    put_file "$ETC/community.json" 0640 "root:$SERVICE_USER" < "$COMMUNITY_SRC"
    node_inputs+=("$ETC/community.json")
  fi
  if [[ -n $S_ADMIN_PASSWORD ]]; then
    put_file "$ETC/admin-password.scrypt" 0640 "root:$SERVICE_USER" < <(admin_hash)
    node_inputs+=("$ETC/admin-password.scrypt")
  fi
  put_file /usr/local/bin/outpost 0755 root:root < <(render_cli_wrapper)
  put_file "$ETC/outpost.conf" 0644 root:root < <(render_saved_settings)
  put_file "$ETC/secrets.conf" 0600 root:root < <(render_secrets)
  put_file /etc/hostname 0644 root:root < <(printf '%s\n' "$S_HOSTNAME")
  if [[ -f $ROOT/etc/hosts ]]; then
    put_file /etc/hosts 0644 root:root < <(render_hosts < "$ROOT/etc/hosts")
  else
    put_file /etc/hosts 0644 root:root < <(printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' | render_hosts)
  fi

  local units=(outpost.service outpost-firstboot.service) u
  if [[ $S_ROLE == hotspot ]]; then
    put_file /etc/modprobe.d/outpost-wifi-country.conf 0644 root:root < <(render_regdom)
    put_file "$ETC/dnsmasq.conf" 0644 root:root < <(render_dnsmasq)
    put_file "$ETC/outpost.nft" 0644 root:root < <(render_nft)
    units+=(outpost-dnsmasq.service outpost-nft.service)
    if [[ $S_AP == networkmanager ]]; then
      put_file /etc/NetworkManager/system-connections/outpost-ap.nmconnection 0600 root:root < <(render_nm_keyfile "$(nm_uuid)")
      retire_unit outpost-hostapd.service
      retire_file "$ETC/hostapd.conf"
      retire_file /etc/NetworkManager/conf.d/90-outpost-unmanaged.conf
    else
      put_file "$ETC/hostapd.conf" 0600 root:root < <(render_hostapd)
      put_file /etc/NetworkManager/conf.d/90-outpost-unmanaged.conf 0644 root:root < <(render_nm_unmanaged)
      units+=(outpost-hostapd.service)
      retire_nm_profile
    fi
    retire_nm_profile outpost-join
  else
    retire_unit outpost-dnsmasq.service
    retire_unit outpost-nft.service
    retire_unit outpost-hostapd.service
    retire_nm_profile
    if [[ $S_JOIN_WIFI == yes ]]; then
      put_file /etc/NetworkManager/system-connections/outpost-join.nmconnection 0600 root:root < <(render_nm_join_keyfile "$(nm_uuid outpost-join)")
    else
      retire_nm_profile outpost-join
    fi
    retire_file /etc/NetworkManager/conf.d/90-outpost-unmanaged.conf
    retire_file "$ETC/dnsmasq.conf"; retire_file "$ETC/outpost.nft"; retire_file "$ETC/hostapd.conf"
    retire_file /etc/modprobe.d/outpost-wifi-country.conf
  fi
  for u in "${units[@]}"; do
    put_file "/etc/systemd/system/$u" 0644 root:root < <(render_unit "$u")
  done
  NODE_INPUTS=("${node_inputs[@]}")
}

retire_unit () {
  [[ -e $ROOT/etc/systemd/system/$1 ]] || return 0
  run systemctl "${SYSTEMCTL_WAIT[@]}" disable --now "$1" || true
  retire_file "/etc/systemd/system/$1"
}

retire_nm_profile () { # retire_nm_profile [ID]: outpost-ap (default) or outpost-join
  local id=${1:-outpost-ap}
  [[ -e $ROOT/etc/NetworkManager/system-connections/$id.nmconnection ]] || return 0
  if command -v nmcli >/dev/null; then run nmcli connection down "$id" || true; fi
  retire_file "/etc/NetworkManager/system-connections/$id.nmconnection"
  if command -v nmcli >/dev/null; then run nmcli connection reload || true; fi
}

# ---------------------------------------------------------------- services and radio
# ensure_service UNIT RESTART(yes|no): enabled and running; restarted when its inputs changed
ensure_service () {
  local unit=$1 restart=$2
  if [[ $DRY_RUN == yes ]]; then
    if [[ $restart == yes ]]; then say "  would enable and restart $unit"; else say "  would make sure $unit is enabled and running"; fi
    return 0
  fi
  if ! systemctl is-enabled --quiet "$unit" 2>/dev/null; then run systemctl enable "$unit"; CHANGED+=("enabled $unit"); fi
  if [[ $restart == yes ]]; then
    run systemctl "${SYSTEMCTL_WAIT[@]}" restart "$unit"
  elif ! systemctl is-active --quiet "$unit"; then
    run systemctl "${SYSTEMCTL_WAIT[@]}" start "$unit"; CHANGED+=("started $unit")
  else
    say "  unchanged  $unit running"
  fi
}

apply () {
  say "services and radio"
  if [[ -n $ROOT ]]; then say "  skipped under --root"; return 0; fi
  if ! command -v systemctl >/dev/null || [[ ! -d /run/systemd/system ]]; then
    say "  no systemd here: start the node with pm2-runtime $PREFIX/ecosystem.config.cjs (see README)"
    return 0
  fi
  local u units_changed=no
  for u in "${CHANGED[@]}"; do [[ $u == /etc/systemd/system/* ]] && units_changed=yes; done
  [[ $units_changed == yes ]] && run systemctl daemon-reload
  if changed /etc/hostname && command -v hostnamectl >/dev/null; then run hostnamectl set-hostname "$S_HOSTNAME"; fi

  if [[ $S_ROLE == hotspot ]]; then
    if changed /etc/modprobe.d/outpost-wifi-country.conf; then
      if command -v raspi-config >/dev/null; then run raspi-config nonint do_wifi_country "$S_COUNTRY"
      elif command -v iw >/dev/null; then run iw reg set "$S_COUNTRY"
      fi
    fi
    if command -v rfkill >/dev/null && rfkill list wlan 2>/dev/null | grep -q 'Soft blocked: yes'; then
      run rfkill unblock wlan; CHANGED+=("rfkill unblock")
    fi
    ensure_service outpost-nft.service "$(changed "$ETC/outpost.nft" /etc/systemd/system/outpost-nft.service && echo yes || echo no)"
    if [[ $S_AP == networkmanager ]]; then
      if changed /etc/NetworkManager/system-connections/outpost-ap.nmconnection; then
        run nmcli connection reload
        run nmcli connection up outpost-ap || say "  warning: the access point did not come up now (no Wi-Fi adapter?); NetworkManager retries at boot"
      fi
    else
      if changed /etc/NetworkManager/conf.d/90-outpost-unmanaged.conf && command -v nmcli >/dev/null; then run nmcli general reload conf || true; fi
      ensure_service outpost-hostapd.service "$(changed "$ETC/hostapd.conf" /etc/systemd/system/outpost-hostapd.service && echo yes || echo no)"
    fi
    ensure_service outpost-dnsmasq.service "$(changed "$ETC/dnsmasq.conf" /etc/systemd/system/outpost-dnsmasq.service && echo yes || echo no)"
  elif [[ $S_JOIN_WIFI == yes ]] && changed /etc/NetworkManager/system-connections/outpost-join.nmconnection; then
    if command -v rfkill >/dev/null && rfkill list wlan 2>/dev/null | grep -q 'Soft blocked: yes'; then
      run rfkill unblock wlan; CHANGED+=("rfkill unblock")
    fi
    run nmcli connection reload
    # away from every site the profile just waits: NetworkManager joins when the Wi-Fi is in range
    run nmcli connection up outpost-join || say "  note: '$S_SSID' is not in range now; NetworkManager joins it when it is"
  fi
  local restart=no
  if [[ $CODE_CHANGED == yes ]] || changed "${NODE_INPUTS[@]}" /etc/systemd/system/outpost.service; then restart=yes; fi
  ensure_service outpost.service "$restart"
  if ! systemctl is-enabled --quiet outpost-firstboot.service 2>/dev/null; then
    run systemctl enable outpost-firstboot.service; CHANGED+=("enabled outpost-firstboot.service")
  fi
}

provision () {
  install_packages
  install_node_runtime
  create_user
  install_code
  write_files
  apply
  say ""
  if [[ ${#CHANGED[@]} -eq 0 ]]; then
    say "unchanged: everything was already as asked (${#UNCHANGED[@]} files checked)"
  elif [[ $DRY_RUN == yes ]]; then
    say "dry run: ${#CHANGED[@]} changes planned, ${#UNCHANGED[@]} files unchanged; nothing was changed"
  else
    say "done: ${#CHANGED[@]} changes, ${#UNCHANGED[@]} files unchanged"
    if [[ -z $ROOT && $S_ROLE == hotspot ]]; then
      say "phones joining '$S_SSID' reach the node at http://$ADDR/"
    fi
  fi
}
