/** Limits applied to what clients and peers send. */
export interface Limits {
  /** Largest serialized event accepted, in bytes. */
  maxEventBytes: number
  /** Most tags one event may carry. */
  maxTags: number
  /** Longest `content`, in characters. */
  maxContentLength: number
  /** How far in the future created_at may be, in seconds. */
  maxFutureSeconds: number
  /** Largest WebSocket frame accepted, in bytes. */
  maxFrameBytes: number
  /** Open subscriptions per connection. */
  maxSubscriptions: number
  /** Filters in one REQ. */
  maxFilters: number
  /** Largest `limit` honoured in a filter (bigger values are clamped). */
  maxLimit: number
  /** `limit` used when a filter has none. */
  defaultLimit: number
  /** Messages per second per connection (token bucket; burst = 2x). */
  messagesPerSecond: number
  /** EVENTs per minute per client IP. */
  eventsPerMinutePerIp: number
  /** Concurrent WebSocket connections per client IP. */
  connectionsPerIp: number
}

/** Group commit of the node log. */
export interface StoreOptions {
  /** Longest time an event waits for its batch to be committed, in ms. */
  commitWindowMs: number
  /** Most events in one batch (one log block). */
  commitMaxEvents: number
  /** Largest log block, in bytes. */
  commitMaxBytes: number
  /** RocksDB memtable size for the log store and the index, in MiB (small on a Pi). */
  writeBufferMiB: number
  /** Run signature checks on worker threads when a batch has at least this many events. */
  verifyWorkerThreshold: number
  /** Free space to keep on the data directory's file system, in MiB; below it nothing new is taken in. */
  minFreeDiskMiB: number
}

/** The captive portal that leads phones joining the hotspot to the web app. */
export interface PortalOptions {
  /** auto = on in the hotspot role, off in the relay role. */
  enabled: 'auto' | 'on' | 'off'
  /** online: after Continue, probes answer "online" so phones keep the Wi-Fi; honest: they stay captive. */
  mode: 'online' | 'honest'
  /** Seconds a client stays accepted after Continue. */
  clientTtl: number
  /** Host (IP or name) phones are sent to; null = the address the phone reached the node on. */
  address: string | null
  /** Port phones are sent to; 0 = the port the node listens on. */
  port: number
  /** More names that mean this node (served directly, never redirected). */
  hostnames: string[]
  /** Splash title; empty = the node name. */
  title: string
  /** Operator paragraph on the splash; empty = none. */
  text: string
  /** Image file shown on the splash; null = none. */
  logo: string | null
  /** dnsmasq leases file read to map client IPs to MACs; null = only the ARP/neighbour table. */
  leasesFile: string | null
}

/** The whole node configuration: defaults < config file < OUTPOST_* env < CLI flags. */
export interface Config {
  /** Where the Corestore, the index and the node's keys live. */
  dataDir: string
  /** HTTP + WebSocket listen address. */
  host: string
  /** HTTP + WebSocket port (0 = any free port). */
  port: number
  /** Community file (or id) this node belongs to; null = a private community of its own. */
  community: string | null
  /** Node-to-node sync TCP port (0 = any free port). */
  syncPort: number
  /** Node-to-node sync listen address. */
  syncHost: string
  /** Static peers, HOST:PORT. */
  peers: string[]
  /** LAN discovery over mDNS. */
  lan: boolean
  /** Interfaces mDNS runs on (names); empty = every non-loopback IPv4 interface. */
  lanInterfaces: string[]
  /** Internet swarm: auto joins when an uplink is detected. */
  swarm: 'auto' | 'on' | 'off'
  /** DHT bootstrap nodes, HOST:PORT (empty = the public ones). */
  bootstrap: string[]
  /** The access point's interface: a default route through it is not an uplink. */
  apInterface: string
  /** Bytes of swarm traffic (in + out) allowed per uplink session; 0 = no budget. */
  swarmBudget: number
  /** hotspot serves phones; relay only carries a community's logs. */
  role: 'hotspot' | 'relay'
  /** Node name shown in NIP-11 and the status API. */
  name: string
  /** scrypt hash of the admin password (provision.sh's admin-password.scrypt); null = /admin closed. */
  adminPasswordFile: string | null
  /** pino level. */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  /** Pretty logs (default: when stdout is a terminal). */
  logPretty: boolean
  limits: Limits
  store: StoreOptions
  portal: PortalOptions
}
