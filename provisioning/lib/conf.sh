# shellcheck shell=bash
# outpost.conf: KEY=value settings, one per line. Read strictly as data: never sourced, no
# expansion, no command substitution, no escapes. Shared by provision.sh and firstboot.sh.
#
#   # a comment (only at the start of a line)
#   SSID=Campsite Outpost
#   PASSPHRASE="a passphrase with spaces"   <- one pair of matching outer quotes is removed
#
# Keys are the long flags of provision.sh in upper case with '_' for '-' (--sync-port -> SYNC_PORT).

# Every key outpost.conf may hold, and whether its value is a secret (redacted after apply).
OUTPOST_CONF_KEYS=(SSID PASSPHRASE COUNTRY HOSTNAME ADDRESS INTERFACE AP ROLE NAME PORT SYNC_PORT
  LISTEN COMMUNITY ADMIN_PASSWORD CHANNEL BAND DHCP_RANGE LEASE_TIME CAPTIVE_API_URL AP_ISOLATION
  LAN SWARM WIFI_SSH JOIN_WIFI)
OUTPOST_CONF_SECRETS=(PASSPHRASE ADMIN_PASSWORD)

conf_key_known () {
  local k
  for k in "${OUTPOST_CONF_KEYS[@]}"; do [[ $k == "$1" ]] && return 0; done
  return 1
}

conf_key_secret () {
  local k
  for k in "${OUTPOST_CONF_SECRETS[@]}"; do [[ $k == "$1" ]] && return 0; done
  return 1
}

# conf_parse FILE CALLBACK: calls `CALLBACK KEY VALUE WHERE` for each setting, in file order.
# Returns 1 with a message naming file and line on the first malformed line or unknown key.
conf_parse () {
  local file=$1 callback=$2 line key value n=0
  if [[ ! -f $file || ! -r $file ]]; then
    echo "error: $file: no such readable file" >&2
    return 1
  fi
  while IFS= read -r line || [[ -n $line ]]; do
    n=$((n + 1))
    line=${line%$'\r'}                      # files edited on Windows
    [[ $n == 1 ]] && line=${line#$'\xef\xbb\xbf'}   # and their byte-order mark
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    if [[ ! $line =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*=(.*)$ ]]; then
      echo "error: $file line $n: expected KEY=value" >&2
      return 1
    fi
    key=${BASH_REMATCH[1]^^}
    value=${BASH_REMATCH[2]}
    if ! conf_key_known "$key"; then
      echo "error: $file line $n: unknown setting $key (known: ${OUTPOST_CONF_KEYS[*]})" >&2
      return 1
    fi
    # trim blanks around the value, then one pair of matching outer quotes
    value=${value#"${value%%[![:space:]]*}"}
    value=${value%"${value##*[![:space:]]}"}
    if [[ ${#value} -ge 2 && ( ( ${value:0:1} == '"' && ${value: -1} == '"' ) || ( ${value:0:1} == "'" && ${value: -1} == "'" ) ) ]]; then
      value=${value:1:${#value}-2}
    fi
    "$callback" "$key" "$value" "$file line $n" || return 1
  done < "$file"
}

# conf_redact FILE: prints FILE with every secret's value replaced, comments kept.
conf_redact () {
  local line key
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    if [[ $line =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*= ]]; then
      key=${BASH_REMATCH[1]^^}
      if conf_key_secret "$key"; then
        printf '%s=<removed after it was applied>\n' "$key"
        continue
      fi
    fi
    printf '%s\n' "$line"
  done < "$1"
}
