import { EventEmitter } from 'node:events'
import { isIP } from 'node:net'
import HyperDHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import type { Logger } from '../log.js'

export interface SwarmConnectionInfo { remotePublicKey: Buffer, source: 'swarm' }

export interface SwarmAddress { host: string, port: number }

export interface SwarmTransportOptions {
  /** 32 bytes, derived from the community public key by hashing. */
  topic: Buffer
  /** The node's Noise keypair (the same as TCP sync). */
  keyPair: { publicKey: Buffer, secretKey: Buffer }
  /** DHT bootstrap nodes; undefined or empty = the public bootstrap (never in tests). */
  bootstrap?: SwarmAddress[]
  log: Logger
  /**
   * UDP bind address of the DHT. Default: 127.0.0.1 when every bootstrap node is on loopback
   * (see loopbackOnly()), else all interfaces.
   */
  host?: string
  /** UDP port of the DHT (default: hyperdht's 49737, or any free port when taken). */
  port?: number
  /** Synchronous allowlist check: true rejects the peer (hyperswarm bans it). */
  firewall?: (remotePublicKey: Buffer) => boolean
  maxPeers?: number
  /** Delay of the second topic lookup after the first announce, in ms (default 5000). */
  relookupMs?: number
}

export type SwarmState = 'idle' | 'joined' | 'closed'

interface Started { swarm: Hyperswarm, discovery: Hyperswarm.PeerDiscovery }

const RELOOKUP_MS = 5000
const REFRESH_WAIT_MS = 5000
const REFRESH_POLL_MS = 100

/**
 * True when every bootstrap node is a loopback address. Such a DHT can only ever reach this
 * machine, and hyperdht then has to be bound to 127.0.0.1: bound to 0.0.0.0 it advertises the
 * machine's interface addresses as its "local" addresses, and where those are reserved ranges
 * (TEST-NET in this VM, CGNAT...) the client's same-host shortcut filters them out and falls
 * back to holepunching between two loopback sockets, which a DHT of fewer than four nodes
 * cannot do (README, "Swarm").
 */
export function loopbackOnly (bootstrap: SwarmAddress[] | undefined): boolean {
  if (bootstrap === undefined || bootstrap.length === 0) return false
  return bootstrap.every(({ host }) => host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.')))
}

/**
 * Internet transport: joins the community's hyperswarm topic and hands every connection
 * (a NoiseSecretStream, already authenticated) to whoever listens on 'connection'.
 *
 * leave() destroys the swarm and its DHT node: no socket stays open, so a node that lost its
 * uplink sends nothing and spends no CPU; join() builds a fresh one with the same key pair.
 * refresh() is the nudge for an uplink that came back while joined, which hyperdht does not
 * notice by itself unless the interface addresses changed.
 */
export class SwarmTransport extends EventEmitter {
  private readonly opts: SwarmTransportOptions
  private readonly log: Logger
  private swarm: Hyperswarm | null = null
  private discovery: Hyperswarm.PeerDiscovery | null = null
  private relookup: NodeJS.Timeout | null = null
  private queue: Promise<void> = Promise.resolve()
  private _state: SwarmState = 'idle'

  constructor (opts: SwarmTransportOptions) {
    super()
    if (!Buffer.isBuffer(opts.topic) || opts.topic.length !== 32) throw new TypeError('swarm topic must be 32 bytes')
    this.opts = opts
    this.log = opts.log.child({ scope: 'swarm' })
  }

  get state (): SwarmState { return this._state }

  /** Open swarm connections right now. */
  get connections (): number { return this.swarm === null ? 0 : this.swarm.connections.size }

  /** The DHT node while joined (for tests and status), else null. */
  get dht (): HyperDHT | null { return this.swarm === null ? null : this.swarm.dht }

  /**
   * Idempotent: announce the topic and look it up; resolves once the first announce is done
   * (hyperdht also resolves it when no DHT node answered). leave() and close() do not wait for it.
   */
  async join (): Promise<void> {
    let started: Started | null = null
    await this.serial(async () => { started = this.start() })
    if (started !== null) await this.announced(started)
  }

  /** After start(): wait for the first announce, then schedule the second lookup. */
  private async announced ({ swarm, discovery }: Started): Promise<void> {
    const t0 = Date.now()
    await discovery.flushed()
    if (this.swarm !== swarm) return
    this.log.info({ ms: Date.now() - t0, nodes: swarm.dht.nodes.length }, 'topic announced')
    // A lookup only finds peers whose announce finished before it: two nodes joining at the
    // same moment miss each other until hyperswarm's 10-minute refresh. One more lookup shortly
    // after our own announce closes that window.
    if (this.relookup !== null) clearTimeout(this.relookup)
    this.relookup = setTimeout(() => {
      this.relookup = null
      if (this.swarm === swarm) discovery.refresh({ client: true, server: true }).catch(() => {})
    }, this.opts.relookupMs ?? RELOOKUP_MS)
    this.relookup.unref()
  }

  private start (): Started | null {
    if (this._state !== 'idle') return null
    const { bootstrap, host, port } = this.opts
    const bind = host ?? (loopbackOnly(bootstrap) ? '127.0.0.1' : undefined)
    const dht = new HyperDHT({
      bootstrap: bootstrap !== undefined && bootstrap.length > 0 ? bootstrap : undefined,
      host: bind,
      port
    })
    const swarm = new Hyperswarm({
      keyPair: this.opts.keyPair,
      dht,
      maxPeers: this.opts.maxPeers,
      firewall: this.opts.firewall
    })
    swarm.on('connection', (conn, info) => { this.onConnection(conn, info) })
    this.log.info({ bootstrap: bootstrap?.map(b => `${b.host}:${b.port}`) ?? 'public', bind: bind ?? '0.0.0.0' }, 'joining the community topic')
    const discovery = swarm.join(this.opts.topic, { server: true, client: true })
    this.swarm = swarm
    this.discovery = discovery
    this._state = 'joined'
    return { swarm, discovery }
  }

  /** Idempotent: leave the topic, close every connection, close the DHT node. */
  leave (): Promise<void> {
    return this.serial(async () => {
      if (this._state !== 'joined') return
      await this.teardown()
      this._state = 'idle'
    })
  }

  /**
   * After the uplink came back while joined. With no live connection (they died with the
   * uplink) the swarm is rebuilt: a fresh DHT node bootstraps, announces and looks up at once
   * (~1 s to a peer). With live connections it is nudged instead, keeping them: refresh the DHT
   * routing table (queries fall back to the bootstrap nodes while it is empty), re-announce the
   * server and redo the topic's announce + lookup; hyperdht's server re-announce starts within
   * ~3 s, so a peer dialled before that is retried by hyperswarm later (~8 s measured).
   * No-op when not joined.
   */
  async refresh (): Promise<void> {
    let restarted: Started | null = null
    await this.serial(async () => {
      const swarm = this.swarm
      if (this._state !== 'joined' || swarm === null || this.discovery === null) return
      if (swarm.connections.size === 0) {
        await this.teardown()
        this._state = 'idle'
        restarted = this.start()
        this.log.info('swarm restarted (uplink back, no live connection)')
        return
      }
      const started = Date.now()
      swarm.dht.refresh()
      // Bounded wait for the table to fill (at most REFRESH_WAIT_MS, a timer tick every 100 ms)
      while (swarm.dht.nodes.length === 0 && Date.now() - started < REFRESH_WAIT_MS && this.swarm === swarm) {
        await new Promise(resolve => setTimeout(resolve, REFRESH_POLL_MS))
      }
      if (this.swarm !== swarm) return
      swarm.server.refresh()
      await this.discovery.refresh({ client: true, server: true })
      this.log.info({ ms: Date.now() - started, nodes: swarm.dht.nodes.length, connections: swarm.connections.size }, 'swarm refreshed')
    })
    if (restarted !== null) await this.announced(restarted)
  }

  /** Idempotent: leave, and refuse to join again. */
  close (): Promise<void> {
    return this.serial(async () => {
      if (this._state === 'closed') return
      if (this._state === 'joined') await this.teardown()
      this._state = 'closed'
    })
  }

  private onConnection (conn: Hyperswarm.Connection, info: Hyperswarm.PeerInfo): void {
    const remotePublicKey = conn.remotePublicKey
    const peer = remotePublicKey.toString('hex').slice(0, 16)
    // Peers vanish when uplinks drop: expected, so debug level and never an uncaught error
    conn.on('error', (err: Error) => { this.log.debug({ peer, err: err.message }, 'swarm connection error') })
    conn.once('close', () => { this.log.debug({ peer }, 'swarm connection closed') })
    this.log.info({ peer, client: info.client }, 'swarm connection')
    const out: SwarmConnectionInfo = { remotePublicKey, source: 'swarm' }
    this.emit('connection', conn, out)
  }

  private async teardown (): Promise<void> {
    const swarm = this.swarm
    this.swarm = null
    this.discovery = null
    if (this.relookup !== null) { clearTimeout(this.relookup); this.relookup = null }
    if (swarm === null) return
    const started = Date.now()
    const connections = swarm.connections.size
    // destroy() unannounces, closes the server, every connection and the DHT sockets
    await swarm.destroy()
    this.log.info({ ms: Date.now() - started, connections }, 'left the community topic')
  }

  /** Resolves once every join/leave/refresh/close called so far has run. */
  async settled (): Promise<void> { await this.queue }

  /** join/leave/refresh/close run one at a time, in call order. */
  private serial (fn: () => Promise<void>): Promise<void> {
    const run = this.queue.then(fn)
    this.queue = run.catch(() => {})
    return run
  }
}

export type SwarmMode = 'auto' | 'on' | 'off'

/** What followUplink() needs of an UplinkMonitor. */
export interface UplinkSource extends EventEmitter { readonly state: 'offline' | 'online' }

/**
 * The `--swarm` policy. auto: join while the uplink is online, leave when it goes offline.
 * on: join now and stay joined; refresh() whenever the uplink comes back (hyperdht does not
 * notice an uplink that appears without an interface change). off: nothing. Returns a function
 * that stops following (it does not leave).
 */
export function followUplink (mode: SwarmMode, uplink: UplinkSource, transport: SwarmTransport, log: Logger): () => void {
  if (mode === 'off') return () => {}
  const fail = (what: string) => (err: Error) => { log.warn({ err: err.message }, `swarm ${what} failed`) }
  const onChange = (state: 'offline' | 'online'): void => {
    if (mode === 'on') {
      if (state === 'online') transport.refresh().catch(fail('refresh'))
    } else if (state === 'online') {
      transport.join().catch(fail('join'))
    } else {
      transport.leave().catch(fail('leave'))
    }
  }
  uplink.on('change', onChange)
  if (mode === 'on' || uplink.state === 'online') transport.join().catch(fail('join'))
  return () => { uplink.off('change', onChange) }
}

/** `HOST:PORT` / `[IPv6]:PORT` strings (the `bootstrap` setting, already validated) as addresses. */
export function parseBootstrap (list: string[]): SwarmAddress[] {
  return list.map(s => {
    const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s)
    if (m === null) throw new TypeError(`bootstrap node must be HOST:PORT, got ${JSON.stringify(s)}`)
    return { host: m[1] as string, port: Number(m[2]) }
  })
}
