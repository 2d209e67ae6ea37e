/**
 * A GLib keyfile reader (the format of NetworkManager's .nmconnection files) and a check of an
 * access point profile against the settings NetworkManager documents (nm-settings-keyfile(5),
 * nm-settings-nmcli(5)). Used where `nmcli --offline` is not available.
 */
export type Keyfile = Map<string, Map<string, string>>

// GLib's escapes in values: \s \n \t \r \\ (a backslash before anything else is an error)
function unescape (raw: string, where: string): string {
  return raw.replace(/\\(.?)/g, (_m, c: string) => {
    switch (c) {
      case 's': return ' '
      case 'n': return '\n'
      case 't': return '\t'
      case 'r': return '\r'
      case '\\': return '\\'
      default: throw new Error(`${where}: invalid escape \\${c}`)
    }
  })
}

export function parseKeyfile (text: string): Keyfile {
  const out: Keyfile = new Map()
  let section: Map<string, string> | null = null
  text.split('\n').forEach((line, i) => {
    const where = `line ${i + 1}`
    if (line.trim() === '' || line.startsWith('#')) return
    const head = /^\[([^\]\n]+)\]$/.exec(line)
    if (head !== null) {
      const name = head[1] as string
      if (out.has(name)) throw new Error(`${where}: section [${name}] twice`)
      section = new Map()
      out.set(name, section)
      return
    }
    const kv = /^([A-Za-z0-9_.-]+(?:\[[^\]]*\])?)\s*=\s*(.*?)\s*$/.exec(line)
    if (kv === null) throw new Error(`${where}: not key=value: ${JSON.stringify(line)}`)
    if (section === null) throw new Error(`${where}: key outside a section`)
    const key = kv[1] as string
    if (section.has(key)) throw new Error(`${where}: key ${key} twice`)
    section.set(key, unescape(kv[2] as string, where))
  })
  return out
}

/** NetworkManager's keyfile SSID: a byte list `79;117;116;` or text. */
export function keyfileSsid (value: string): Buffer {
  if (/^(\d{1,3};)+$/.test(value)) return Buffer.from(value.split(';').filter(s => s !== '').map(Number))
  return Buffer.from(value, 'utf8')
}

// the keys NetworkManager knows for the sections we write
const KNOWN: Record<string, string[]> = {
  connection: ['id', 'uuid', 'type', 'interface-name', 'autoconnect', 'autoconnect-priority', 'autoconnect-retries'],
  wifi: ['mode', 'ssid', 'band', 'channel', 'powersave', 'ap-isolation'],
  'wifi-security': ['key-mgmt', 'proto', 'pairwise', 'group', 'psk'],
  ipv4: ['method', 'address1', 'never-default', 'ignore-auto-dns'],
  ipv6: ['method']
}

export interface ApExpectation { ssid: string, psk?: string, address: string, iface: string }

/** What any Wi-Fi profile of ours must be: known keys only, a wifi connection on `iface` with this SSID. */
function checkWifiProfile (kf: Keyfile, want: { ssid: string, iface: string }, problems: string[]): (s: string, k: string) => string | undefined {
  const get = (s: string, k: string): string | undefined => kf.get(s)?.get(k)
  for (const [name, section] of kf) {
    const known = KNOWN[name]
    if (known === undefined) { problems.push(`unknown section [${name}]`); continue }
    for (const key of section.keys()) if (!known.includes(key)) problems.push(`unknown key ${name}.${key}`)
  }
  if (get('connection', 'type') !== 'wifi') problems.push('connection.type must be wifi')
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(get('connection', 'uuid') ?? '')) problems.push('connection.uuid must be a UUID')
  if ((get('connection', 'id') ?? '') === '') problems.push('connection.id is required')
  if (get('connection', 'interface-name') !== want.iface) problems.push(`connection.interface-name must be ${want.iface}`)
  if (!['true', 'false'].includes(get('connection', 'autoconnect') ?? 'true')) problems.push('connection.autoconnect must be a boolean')
  const ssid = keyfileSsid(get('wifi', 'ssid') ?? '')
  if (ssid.length < 1 || ssid.length > 32) problems.push('wifi.ssid must be 1-32 bytes')
  if (!ssid.equals(Buffer.from(want.ssid, 'utf8'))) problems.push(`wifi.ssid reads back as ${JSON.stringify(ssid.toString())}, not ${JSON.stringify(want.ssid)}`)
  if (get('ipv6', 'method') !== 'disabled') problems.push('ipv6.method must be disabled')
  return get
}

/** A relay's profile joining the sites' hotspot: a client, DHCP, never the default route or DNS. */
export function checkJoinKeyfile (kf: Keyfile, want: { ssid: string, psk?: string, iface: string }): string[] {
  const problems: string[] = []
  const get = checkWifiProfile(kf, want, problems)
  if (get('wifi', 'mode') !== 'infrastructure') problems.push('wifi.mode must be infrastructure (a client)')
  if (get('connection', 'autoconnect') !== 'true') problems.push('connection.autoconnect must be true: it joins wherever it is carried')
  if (get('connection', 'autoconnect-retries') !== '0') problems.push('connection.autoconnect-retries must be 0 (forever)')
  if (want.psk === undefined) {
    if (kf.has('wifi-security')) problems.push('an open network has no [wifi-security]')
  } else {
    if (get('wifi-security', 'key-mgmt') !== 'wpa-psk') problems.push('wifi-security.key-mgmt must be wpa-psk')
    if (get('wifi-security', 'psk') !== want.psk) problems.push(`wifi-security.psk reads back as ${JSON.stringify(get('wifi-security', 'psk'))}`)
  }
  if (get('ipv4', 'method') !== 'auto') problems.push('ipv4.method must be auto (DHCP from the hotspot)')
  if (get('ipv4', 'never-default') !== 'true') problems.push('ipv4.never-default must be true: the offline hotspot is no route out')
  if (get('ipv4', 'ignore-auto-dns') !== 'true') problems.push('ipv4.ignore-auto-dns must be true: the hotspot answers every name with itself')
  return problems
}

/** Every way `kf` differs from an AP profile NetworkManager accepts for `want`; empty = fine. */
export function checkApKeyfile (kf: Keyfile, want: ApExpectation): string[] {
  const problems: string[] = []
  const get = checkWifiProfile(kf, want, problems)
  if (get('wifi', 'mode') !== 'ap') problems.push('wifi.mode must be ap')
  const band = get('wifi', 'band')
  if (band !== 'bg' && band !== 'a') problems.push('wifi.band must be bg or a')
  const channel = Number(get('wifi', 'channel'))
  if (!Number.isInteger(channel) || channel < 1 || (band === 'bg' && channel > 14)) problems.push('wifi.channel out of range')
  if (!['0', '1', '2', '3'].includes(get('wifi', 'powersave') ?? '0')) problems.push('wifi.powersave must be 0-3')
  if (!['-1', '0', '1'].includes(get('wifi', 'ap-isolation') ?? '-1')) problems.push('wifi.ap-isolation must be -1, 0 or 1')
  if (want.psk === undefined) {
    if (kf.has('wifi-security')) problems.push('an open network has no [wifi-security]')
  } else {
    if (get('wifi-security', 'key-mgmt') !== 'wpa-psk') problems.push('wifi-security.key-mgmt must be wpa-psk')
    const psk = get('wifi-security', 'psk') ?? ''
    if (!(psk.length >= 8 && psk.length <= 63) && !/^[0-9a-fA-F]{64}$/.test(psk)) problems.push('wifi-security.psk must be 8-63 characters or 64 hex digits')
    if (psk !== want.psk) problems.push(`wifi-security.psk reads back as ${JSON.stringify(psk)}`)
    if (get('wifi-security', 'proto') !== 'rsn') problems.push('wifi-security.proto must be rsn (WPA2)')
  }
  if (get('ipv4', 'method') !== 'manual') problems.push('ipv4.method must be manual (shared would start NetworkManager\'s own dnsmasq and NAT)')
  if (get('ipv4', 'address1') !== want.address) problems.push(`ipv4.address1 must be ${want.address}`)
  return problems
}
