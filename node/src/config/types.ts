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
  /** Static peers, HOST:PORT. */
  peers: string[]
  /** LAN discovery over mDNS. */
  lan: boolean
  /** Internet swarm: auto joins when an uplink is detected. */
  swarm: 'auto' | 'on' | 'off'
  /** DHT bootstrap nodes, HOST:PORT (empty = the public ones). */
  bootstrap: string[]
  /** The access point's interface: a default route through it is not an uplink. */
  apInterface: string
  /** hotspot serves phones; relay only carries a community's logs. */
  role: 'hotspot' | 'relay'
  /** Node name shown in NIP-11 and the status API. */
  name: string
  /** pino level. */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  /** Pretty logs (default: when stdout is a terminal). */
  logPretty: boolean
  limits: Limits
  store: StoreOptions
}
