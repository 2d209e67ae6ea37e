import type { Config, Limits, PortalOptions, StoreOptions } from './types.js'
import type { Kind } from './values.js'

/** Every setting's key path in Config (and in the JSON config file). */
export type SettingKey =
  | Exclude<keyof Config, 'limits' | 'store' | 'portal'>
  | `limits.${keyof Limits}`
  | `store.${keyof StoreOptions}`
  | `portal.${keyof PortalOptions}`

/** Inputs the defaults depend on; passed in so the library never looks at the process. */
export interface DefaultsContext {
  cwd: string
  isTTY: boolean
}

export type SettingGroup = 'node' | 'sync' | 'logging' | 'limits' | 'store' | 'portal'

export interface Setting {
  key: SettingKey
  /** CLI flag without the dashes. Booleans also get `--no-<flag>`; lists repeat. */
  flag: string
  /** Placeholder shown in help (`--port N`); absent for booleans. */
  arg?: string
  /** Environment variable. */
  env: string
  kind: Kind
  group: SettingGroup
  /** One sentence for help and the README. */
  doc: string
  default: (ctx: DefaultsContext) => unknown
  /** How the default is shown when it depends on the context. */
  defaultDoc?: string
}

type Spec = Omit<Setting, 'key' | 'env'> & { env?: string }

const KiB = 1024
const MiB = 1024 * KiB
const MAX = Number.MAX_SAFE_INTEGER
const port: Kind = { type: 'int', min: 0, max: 65535 }
const positive: Kind = { type: 'int', min: 1, max: MAX }
const nonNegative: Kind = { type: 'int', min: 0, max: MAX }
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const limit = (flag: string, def: number, doc: string, kind: Kind = positive): Spec =>
  ({ flag, arg: 'N', kind, group: 'limits', doc, default: () => def })
const portal = (flag: string, arg: string, env: string, kind: Kind, def: unknown, doc: string): Spec =>
  ({ flag, arg, env, kind, group: 'portal', doc, default: () => def })
const store = (flag: string, def: number, doc: string, kind: Kind = positive): Spec =>
  ({ flag, arg: 'N', kind, group: 'store', doc, default: () => def })

// The mapped type makes the compiler insist on one entry per Config field.
const specs: { [K in SettingKey]: Spec } = {
  dataDir: {
    flag: 'data',
    arg: 'DIR',
    kind: { type: 'path' },
    group: 'node',
    doc: 'Where the Corestore, the index and the node\'s keys live. Relative paths resolve against the working directory (in a config file: against the file\'s directory).',
    default: () => './data'
  },
  host: {
    flag: 'host',
    arg: 'HOST',
    kind: { type: 'host' },
    group: 'node',
    doc: 'HTTP + WebSocket listen address (0.0.0.0 to serve the hotspot).',
    default: () => '127.0.0.1'
  },
  port: {
    flag: 'port',
    arg: 'N',
    kind: port,
    group: 'node',
    doc: 'HTTP + WebSocket port (0 = any free port).',
    default: () => 8080
  },
  name: {
    flag: 'name',
    arg: 'NAME',
    kind: { type: 'name' },
    group: 'node',
    doc: 'Node name shown in NIP-11 and the status API.',
    default: () => 'Outpost'
  },
  role: {
    flag: 'role',
    arg: 'ROLE',
    kind: { type: 'enum', values: ['hotspot', 'relay'] },
    group: 'node',
    doc: 'hotspot serves phones; relay only carries a community\'s logs.',
    default: () => 'hotspot'
  },
  community: {
    flag: 'community',
    arg: 'ID|FILE',
    kind: { type: 'community' },
    group: 'sync',
    doc: 'Community file (or id: the 64-hex public key) this node belongs to; unset = a private community of its own. A relative file resolves against the working directory (in a config file: against the file\'s directory).',
    default: () => null,
    defaultDoc: 'none'
  },
  syncPort: {
    flag: 'sync-port',
    arg: 'N',
    kind: port,
    group: 'sync',
    doc: 'Node-to-node sync TCP port (0 = any free port).',
    default: () => 7707
  },
  syncHost: {
    flag: 'sync-host',
    arg: 'HOST',
    kind: { type: 'host' },
    group: 'sync',
    doc: 'Node-to-node sync listen address (0.0.0.0 = every interface, as LAN peers need); by default the listen address when that is loopback and LAN discovery is off, so a development node opens nothing to the network.',
    default: () => '0.0.0.0',
    defaultDoc: '`0.0.0.0` (`--host` if loopback and no `--lan`)'
  },
  peers: {
    flag: 'peer',
    arg: 'HOST:PORT',
    env: 'OUTPOST_PEERS',
    kind: { type: 'hostPortList' },
    group: 'sync',
    doc: 'Static peer to sync with; repeat the flag, comma-separate in the environment.',
    default: () => [],
    defaultDoc: 'none'
  },
  lan: {
    flag: 'lan',
    kind: { type: 'boolean' },
    group: 'sync',
    doc: 'LAN discovery over mDNS.',
    default: () => false
  },
  lanInterfaces: {
    flag: 'lan-interface',
    arg: 'NAME',
    kind: { type: 'interfaceList' },
    group: 'sync',
    doc: 'Network interface to advertise and browse for LAN peers on (e.g. the AP\'s wlan0); repeat the flag, comma-separate in the environment; none = every non-loopback IPv4 interface.',
    default: () => [],
    defaultDoc: 'all'
  },
  swarm: {
    flag: 'swarm',
    arg: 'MODE',
    kind: { type: 'enum', values: ['auto', 'on', 'off'] },
    group: 'sync',
    doc: 'Internet swarm (hyperswarm): auto joins when an uplink is detected.',
    default: () => 'off'
  },
  bootstrap: {
    flag: 'bootstrap',
    arg: 'HOST:PORT',
    kind: { type: 'hostPortList' },
    group: 'sync',
    doc: 'DHT bootstrap node; repeat the flag, comma-separate in the environment (none = the public ones).',
    default: () => [],
    defaultDoc: 'none'
  },
  apInterface: {
    flag: 'ap-interface',
    arg: 'IFACE',
    kind: { type: 'name' },
    group: 'sync',
    doc: 'The access point\'s network interface: a default route through it is not an uplink (swarm auto). Ignored in the relay role.',
    default: () => 'wlan0'
  },
  swarmBudget: {
    flag: 'swarm-budget',
    arg: 'BYTES',
    kind: nonNegative,
    group: 'sync',
    doc: 'Data budget per uplink session for swarm traffic, in bytes (in + out); when spent the node leaves the swarm until the uplink next comes up. 0 = no budget.',
    default: () => 0,
    defaultDoc: 'none'
  },
  logLevel: {
    flag: 'log-level',
    arg: 'LEVEL',
    kind: { type: 'enum', values: LOG_LEVELS },
    group: 'logging',
    doc: 'Log level.',
    default: () => 'info'
  },
  logPretty: {
    flag: 'log-pretty',
    kind: { type: 'boolean' },
    group: 'logging',
    doc: 'Human-readable logs instead of JSON lines.',
    default: ctx => ctx.isTTY,
    defaultDoc: 'when stdout is a terminal'
  },
  adminPasswordFile: {
    flag: 'admin-password-file',
    arg: 'FILE',
    kind: { type: 'optionalPath' },
    group: 'node',
    doc: 'File holding the scrypt hash of the admin password (`scrypt$N$r$p$salt$hash`, as provision.sh writes to /etc/outpost/admin-password.scrypt); unset = /admin is closed and says how to set one.',
    default: () => null,
    defaultDoc: 'none'
  },
  // Limits follow strfry's defaults (64 KiB events, 128 KiB frames, 2000 tags, 500 limit, 20 subs, 900 s)
  'limits.maxEventBytes': limit('max-event-bytes', 64 * KiB, 'Largest serialized event accepted, in bytes.'),
  'limits.maxTags': limit('max-tags', 2000, 'Most tags one event may carry.'),
  'limits.maxContentLength': limit('max-content-length', 32 * KiB, 'Longest event content, in characters.'),
  'limits.maxFutureSeconds': limit('max-future-seconds', 900, 'How far in the future created_at may be, in seconds.', nonNegative),
  'limits.maxFrameBytes': limit('max-frame-bytes', 128 * KiB, 'Largest WebSocket frame accepted, in bytes.'),
  'limits.maxSubscriptions': limit('max-subscriptions', 20, 'Open subscriptions per connection.'),
  'limits.maxFilters': limit('max-filters', 10, 'Filters in one REQ.'),
  'limits.maxLimit': limit('max-limit', 500, 'Largest filter limit honoured (bigger values are clamped).'),
  // = maxLimit as in strfry: clients fetch a follow list's profiles without a limit
  'limits.defaultLimit': limit('default-limit', 500, 'Limit used when a filter has none (follows max-limit down unless set).'),
  'limits.messagesPerSecond': limit('messages-per-second', 20, 'Messages per second per connection (burst = 2x).'),
  'limits.eventsPerMinutePerIp': limit('events-per-minute-per-ip', 600, 'EVENTs per minute per client IP.'),
  'limits.connectionsPerIp': limit('connections-per-ip', 32, 'Concurrent WebSocket connections per client IP.'),
  'store.commitWindowMs': store('commit-window-ms', 0, 'Extra wait before a batch is committed, in ms; 0 = commit at once, events arriving meanwhile form the next batch.', nonNegative),
  'store.commitMaxEvents': store('commit-max-events', 256, 'Most events in one batch (one log block).'),
  'store.commitMaxBytes': store('commit-max-bytes', MiB, 'Largest log block, in bytes.'),
  'store.writeBufferMiB': { ...store('write-buffer-mib', 8, 'RocksDB memtable size for the log store and the index, in MiB (small on a Pi).', { type: 'int', min: 1, max: 1024 }), env: 'OUTPOST_WRITE_BUFFER_MIB' },
  'store.minFreeDiskMiB': { flag: 'min-free-disk', arg: 'SIZE', env: 'OUTPOST_MIN_FREE_DISK', kind: { type: 'mib', max: 1024 * 1024 }, group: 'store', doc: 'Free space kept on the data directory\'s file system, in MiB or with a unit (512K, 64M, 1G): below it the node refuses new events (OK false "error: ... storage is full") and pauses replication downloads, and resumes by itself once space is freed; 0 = no reserve.', default: () => 64 },
  'store.verifyWorkerThreshold': store('verify-worker-threshold', 32, 'Check signatures on worker threads when a batch has at least this many events.'),
  // Captive portal (node/src/portal); env names spelled out: the leaf names alone are ambiguous
  'portal.enabled': portal('portal', 'MODE', 'OUTPOST_PORTAL', { type: 'enum', values: ['auto', 'on', 'off'] }, 'auto', 'Captive portal: probe answers, redirects and the splash; auto = on in the hotspot role, off in the relay role.'),
  'portal.mode': portal('portal-mode', 'MODE', 'OUTPOST_PORTAL_MODE', { type: 'enum', values: ['online', 'honest'] }, 'online', 'online: after Continue the OS probes answer "online" so phones keep the Wi-Fi; honest: they stay captive.'),
  'portal.clientTtl': portal('portal-client-ttl', 'SECONDS', 'OUTPOST_PORTAL_CLIENT_TTL', positive, 3 * 24 * 3600, 'How long a phone stays accepted after Continue, in seconds.'),
  'portal.address': { ...portal('portal-address', 'HOST', 'OUTPOST_PORTAL_ADDRESS', { type: 'optionalHost' }, null, 'Address phones are sent to (e.g. 10.42.0.1 or node.home.arpa); unset = the address the phone reached the node on.'), defaultDoc: 'the address reached' },
  'portal.port': { ...portal('portal-port', 'N', 'OUTPOST_PORTAL_PORT', port, 0, 'Port phones are sent to (80 behind the hotspot\'s port redirect); 0 = the port the node listens on.') },
  'portal.hostnames': { ...portal('portal-hostname', 'NAME', 'OUTPOST_PORTAL_HOSTNAMES', { type: 'hostList' }, [], 'Another name of this node, served directly and never redirected; repeat the flag, comma-separate in the environment.'), defaultDoc: 'none' },
  'portal.title': { ...portal('portal-title', 'TEXT', 'OUTPOST_PORTAL_TITLE', { type: 'text', max: 80 }, '', 'Splash page title (the community name); empty = the node name.'), defaultDoc: 'the node name' },
  'portal.text': { ...portal('portal-text', 'TEXT', 'OUTPOST_PORTAL_TEXT', { type: 'text', max: 2000 }, '', 'Operator paragraph on the splash page (plain text, blank lines start paragraphs).'), defaultDoc: 'none' },
  'portal.logo': { ...portal('portal-logo', 'FILE', 'OUTPOST_PORTAL_LOGO', { type: 'optionalPath' }, null, 'Image (png, jpeg, gif, webp or svg, at most 512 KiB) shown on the splash page.'), defaultDoc: 'none' },
  'portal.leasesFile': { ...portal('portal-leases', 'FILE', 'OUTPOST_PORTAL_LEASES', { type: 'optionalPath' }, null, 'dnsmasq leases file used to find a phone\'s MAC address when the ARP table has none.'), defaultDoc: 'none' }
}

/** Environment variable derived from the key's last part: limits.maxTags -> OUTPOST_MAX_TAGS. */
function envName (key: string): string {
  const leaf = key.slice(key.lastIndexOf('.') + 1)
  return 'OUTPOST_' + leaf.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()
}

/** All settings, in help order. */
export const settings: readonly Setting[] = Object.entries(specs).map(([key, spec]) => ({
  ...spec,
  key: key as SettingKey,
  env: spec.env ?? envName(key)
}))

/** Not a setting: where the settings come from. */
export const CONFIG_FLAG = 'config'
export const CONFIG_ENV = 'OUTPOST_CONFIG'

export const GROUP_TITLES: Record<SettingGroup, string> = {
  node: 'Node',
  sync: 'Sync',
  logging: 'Logging',
  limits: 'Limits (per client)',
  store: 'Store',
  portal: 'Captive portal'
}

export function settingByFlag (flag: string): Setting | undefined {
  return settings.find(s => s.flag === flag)
}

export function settingByEnv (name: string): Setting | undefined {
  return settings.find(s => s.env === name)
}

export function settingByKey (key: string): Setting | undefined {
  return settings.find(s => s.key === key)
}

/** `OUTPOST_*` variables in env that no setting reads (likely typos). */
export function unknownEnv (env: Record<string, string | undefined>): string[] {
  return Object.keys(env).filter(name =>
    name.startsWith('OUTPOST_') && name !== CONFIG_ENV && settingByEnv(name) === undefined)
}
