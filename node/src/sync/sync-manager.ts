import net from 'node:net'
import type NoiseSecretStream from '@hyperswarm/secret-stream'
import type { Logger } from 'pino'
import type { Store } from '../store/store.js'
import type { Community } from './community.js'
import type { KeyPair } from './identity.js'
import { signLog, verifyAdmission, verifyPeer, verifyRelay, type LogEntry } from './admission.js'
import { LogSet, type Backlog } from './log-set.js'
import { MAX_PRIORITY_RUNS, type PriorityRequest } from './messages.js'
import { Session, type PeerSource } from './session.js'
import { Dialer, addressKey, type PeerAddress } from './dialer.js'
import { connectTcp, secureSocket } from './tcp.js'
import { listen as listenTcp } from '../http/server.js'
import { SYNC_PROTOCOL, channelId, discoveryId } from './protocol.js'
import type { NodeClock } from '../system/clock.js'

export type { PeerSource } from './session.js'

export interface StreamInfo { remotePublicKey?: Buffer | null, source: PeerSource, host?: string, port?: number }

export interface SyncManagerOptions {
  store: Store
  community: Community
  keyPair: KeyPair
  /** The organiser's signature admitting our key (null: not admitted; fine in an open community). */
  admission: Buffer | null
  dataDir: string
  log: Logger
  /** TCP listen address for peers; port 0 = any free port; null = no listener. */
  listen: { host: string, port: number } | null
  /** Inactivity after which a connection is dead (keepalives flow every 5 s); default 20 s. */
  idleTimeoutMs?: number
  /** Relay role: carries every admitted log, announces none of its own. */
  relay?: boolean
  /** false: fetch every log strictly in order, no priority classes (for the benchmark's comparison). */
  priorities?: boolean
  /** The node's clock: sent to peers on open, and told what theirs say. */
  clock?: NodeClock
}

/** Inactivity after which a connection is considered dead (keepalives flow every 5 s). */
const IDLE_TIMEOUT_MS = 20_000
const HANDSHAKE_TIMEOUT_MS = 10_000
const MAX_PENDING_HANDSHAKES = 64
/** The handshake and our hello are a few hundred bytes; a stranger may not make us buffer more. */
const MAX_BYTES_BEFORE_READY = 64 * 1024
/** Authenticated connections that have not yet proved community membership. */
const MAX_UNPROVEN_SESSIONS = 32
const MAX_KNOWN_RELAYS = 4096
const BAN_MS = 60_000
/** Refused log offers a peer may make before it is taken for hostile and dropped. */
const MAX_REFUSED_PER_PEER = 1024
const MAX_BANS = 1024

/**
 * Node-to-node sync for one community. Every transport (TCP listener and dialer here, LAN
 * discovery feeding addresses, the hyperswarm transport) hands its Noise streams to
 * handleStream(): one session per peer pair, our channel proves community membership before
 * corestore replication starts, and admitted logs flow both ways (store-and-forward).
 */
export class SyncManager {
  readonly community: Community
  readonly keyPair: KeyPair
  readonly logs: LogSet
  private readonly store: Store
  private readonly admission: Buffer | null
  private readonly log: Logger
  private readonly sessions = new Map<string, Session>()
  /** Peers that showed a relay certificate (keys, hex). */
  private readonly relays = new Set<string>()
  private readonly pending = new Set<NoiseSecretStream>()
  private readonly bans = new Map<string, number>()
  private readonly dialer: Dialer
  private readonly listenOpts: SyncManagerOptions['listen']
  private readonly channel: Buffer
  private server: net.Server | null = null
  private address: { host: string, port: number } | null = null
  private ownCount = 0
  private offEvent: (() => void) | null = null
  private closing: Promise<void> | null = null
  private violations = 0
  private readonly idleTimeoutMs: number
  private readonly relay: boolean
  private readonly clock: NodeClock | null

  constructor (opts: SyncManagerOptions) {
    this.relay = opts.relay === true
    this.clock = opts.clock ?? null
    this.store = opts.store
    this.community = opts.community
    this.keyPair = opts.keyPair
    this.admission = opts.admission
    this.log = opts.log
    this.listenOpts = opts.listen
    this.idleTimeoutMs = opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS
    this.channel = channelId(opts.community.publicKey)
    this.logs = new LogSet({ store: opts.store, community: opts.community, dataDir: opts.dataDir, log: opts.log, ...(opts.priorities === false ? { priorities: false } : {}) })
    this.logs.on('log', (e: LogEntry) => { this.announce(e) })
    this.logs.askPeers = (b: Backlog) => {
      let n = 0
      for (const s of this.sessions.values()) if (s.requestPriorities(b)) n++
      return n
    }
    this.dialer = new Dialer({
      dial: async p => await this.dial(p),
      connected: key => this.sessions.get(key)?.closed === false,
      log: opts.log
    })
  }

  /** Peers will hold a session with us (a node or a relay certificate). */
  get admitted (): boolean {
    return verifyPeer(this.community, this.keyPair.publicKey, this.admission)
  }

  /** Peers will accept logs we sign: a node certificate, and not a relay. */
  get writer (): boolean {
    return !this.relay && verifyAdmission(this.community, this.keyPair.publicKey, this.admission)
  }

  /** Opens the logs, listens; resolves with the bound address (null when not listening). */
  async start (): Promise<{ host: string, port: number } | null> {
    await this.logs.open()
    await this.syncOwnLogs()
    // a rotation (fork) happens inside an append, which is followed by an event
    this.offEvent = this.store.onEvent(() => {
      if (this.store.nodeLog.logs.length !== this.ownCount) this.syncOwnLogs().catch(err => this.log.error({ err }, 'announcing a new node log failed'))
    })
    if (!this.admitted) {
      this.log.warn({ node: this.keyPair.publicKey.toString('hex'), community: discoveryId(this.community.publicKey) }, 'this node is not admitted to its community: peers will not sync with it until the organiser admits it (outpost community request / admit)')
    }
    if (this.listenOpts !== null) {
      const server = net.createServer(socket => { this.accept(socket) })
      this.server = server
      try {
        this.address = await listenTcp(server, this.listenOpts.host, this.listenOpts.port)
        // after the listen: a failed listen is reported once, below
        server.on('error', err => this.log.error({ err }, 'sync listener failed'))
        this.log.info({ ...this.address, node: this.keyPair.publicKey.toString('hex') }, 'sync port open')
      } catch (err) {
        // the relay still serves phones; peers can still be dialed
        this.log.error({ err, ...this.listenOpts }, 'cannot listen for sync connections')
        this.server = null
      }
    }
    return this.address
  }

  get listening (): { host: string, port: number } | null { return this.address }

  private async syncOwnLogs (): Promise<void> {
    this.ownCount = this.store.nodeLog.logs.length
    if (!this.writer) return
    for (const core of this.logs.ownLogs()) {
      if (this.logs.has(core.key)) continue
      await this.logs.addOwn({ log: core.key, node: this.keyPair.publicKey, admission: this.admission ?? Buffer.alloc(0), logSig: signLog(this.community, core.key, this.keyPair.secretKey) })
    }
  }

  addPeerAddress (p: PeerAddress): void {
    if (this.closing !== null) return
    this.dialer.add(p)
  }

  removePeerAddress (p: PeerAddress): void {
    this.dialer.remove(p)
  }

  private async dial (p: PeerAddress): Promise<{ key: string, closed: Promise<{ lasted: number }> }> {
    if (this.closing !== null) throw new Error('closing')
    const socket = await connectTcp(p.host, p.port)
    const stream = secureSocket(socket, true, this.keyPair)
    const started = Date.now()
    const closed = new Promise<{ lasted: number }>(resolve => stream.once('close', () => { resolve({ lasted: Date.now() - started }) }))
    this.handleStream(stream, { source: p.source, host: p.host, port: p.port })
    const key = await new Promise<string>((resolve, reject) => {
      stream.once('handshake', () => { resolve((stream.remotePublicKey as Buffer).toString('hex')) })
      stream.once('close', () => { reject(new Error('closed during the handshake')) })
    })
    return { key, closed }
  }

  private accept (socket: net.Socket): void {
    if (this.closing !== null || this.pending.size >= MAX_PENDING_HANDSHAKES) { socket.destroy(); return }
    const stream = secureSocket(socket, false, this.keyPair)
    this.handleStream(stream, { source: 'incoming', host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 })
  }

  /**
   * The one entry point of every transport. The stream may still be before its Noise
   * handshake (TCP) or past it (hyperswarm); nothing of ours or corestore's is sent until the
   * remote key is checked.
   */
  handleStream (stream: NoiseSecretStream, info: StreamInfo): void {
    stream.on('error', (err: Error) => { this.log.debug({ err: err.message, host: info.host }, 'sync stream error') })
    if (this.closing !== null) { stream.destroy(); return }
    stream.setKeepAlive(Math.min(5000, Math.floor(this.idleTimeoutMs / 4)))
    stream.setTimeout(this.idleTimeoutMs)
    this.capUntilReady(stream)
    if (stream.handshakeHash !== null && stream.remotePublicKey !== null) {
      this.onHandshake(stream, info)
      return
    }
    this.pending.add(stream)
    const timer = setTimeout(() => { stream.destroy(new Error('handshake timed out')) }, HANDSHAKE_TIMEOUT_MS)
    timer.unref()
    stream.once('handshake', () => {
      clearTimeout(timer)
      this.pending.delete(stream)
      this.onHandshake(stream, info)
    })
    stream.once('close', () => {
      clearTimeout(timer)
      this.pending.delete(stream)
    })
  }

  /** Counts raw bytes until the peer proved membership (or is gone); too many: dropped. */
  private capUntilReady (stream: NoiseSecretStream): void {
    const raw = stream.rawStream as { on?: (e: string, f: (d: Buffer) => void) => void, off?: (e: string, f: (d: Buffer) => void) => void } | null
    if (raw?.on === undefined || raw.off === undefined) return
    let n = 0
    const count = (d: Buffer): void => {
      n += d.length
      if (n <= MAX_BYTES_BEFORE_READY) return
      const key = stream.remotePublicKey?.toString('hex')
      if (key === undefined || this.sessions.get(key)?.stream !== stream || this.sessions.get(key)?.ready !== true) {
        stream.destroy(new Error('too much data before joining the community channel'))
      }
      raw.off?.('data', count)
    }
    raw.on('data', count)
    stream.once('close', () => { raw.off?.('data', count) })
  }

  private onHandshake (stream: NoiseSecretStream, info: StreamInfo): void {
    const remote = stream.remotePublicKey as Buffer
    const hex = remote.toString('hex')
    if (this.closing !== null) return stream.destroy()
    if (remote.equals(this.keyPair.publicKey)) return stream.destroy(new Error('connected to ourselves'))
    const banned = this.bans.get(hex)
    if (banned !== undefined && banned > Date.now()) return stream.destroy(new Error('peer is banned for a while'))
    let unproven = 0
    for (const s of this.sessions.values()) if (!s.ready) unproven++
    if (unproven >= MAX_UNPROVEN_SESSIONS) return stream.destroy(new Error('too many connections waiting to join'))
    const existing = this.sessions.get(hex)
    if (existing !== undefined && !existing.closed) {
      if (!this.prefer(stream, existing.stream)) return stream.destroy(new Error('duplicate connection'))
      existing.destroy(new Error('duplicate connection (replaced)'))
    }
    const session = new Session(stream, info, {
      channelId: this.channel,
      hello: { version: SYNC_PROTOCOL, admission: this.admission ?? Buffer.alloc(0) },
      admits: (key, h) => {
        const sig = h.admission.length === 0 ? null : h.admission
        if (!verifyPeer(this.community, key, sig)) return false
        if (verifyRelay(this.community, key, sig)) this.noteRelay(key.toString('hex'))
        return true
      },
      onReady: s => { this.onReady(s) },
      onLogs: (s, entries) => { this.onLogs(s, entries) },
      onPriorityRequest: (s, req) => { this.onPriorityRequest(s, req) },
      onPriorityAnswer: (_s, ans) => { this.logs.prioritize(ans.log, ans.from, ans.end, ans.runs) },
      now: () => this.now(),
      ...(this.clock === null
        ? {}
        : {
            clock: () => ({ now: (this.clock as NodeClock).now(), online: (this.clock as NodeClock).online() }),
            onClock: (s, m) => { this.clock?.peerClock(s.remoteKey.toString('hex'), m.now, m.online) }
          }),
      onViolation: (s, reason) => { this.onViolation(s, reason) },
      onClose: s => { this.onClose(s) }
    }, this.log)
    if (!session.closed) this.sessions.set(hex, session)
  }

  /**
   * Of two connections between the same pair, both sides keep the one dialed by the lower
   * key (the same answer on both ends); two from the same side: keep the older.
   */
  private prefer (candidate: NoiseSecretStream, existing: NoiseSecretStream): boolean {
    const dialer = (s: NoiseSecretStream): Buffer => s.isInitiator ? this.keyPair.publicKey : s.remotePublicKey as Buffer
    const a = dialer(candidate)
    const b = dialer(existing)
    if (a.equals(b)) return false
    return Buffer.compare(a, b) < 0
  }

  private onReady (s: Session): void {
    this.log.info({ peer: s.remoteKey.toString('hex'), source: s.source, host: s.host }, 'sync peer connected')
    this.store.corestore.replicate(s.stream)
    s.sendLogs(this.logs.entries())
  }

  private onLogs (s: Session, entries: LogEntry[]): void {
    for (const e of entries) {
      this.logs.addRemote(e).then(r => {
        if (r === 'refused') {
          this.log.warn({ peer: s.remoteKey.toString('hex'), log: e.log.toString('hex') }, 'peer offered a log the community does not admit; ignored')
          if (++s.logsRefused > MAX_REFUSED_PER_PEER) s.violation('offered too many logs the community does not admit')
        }
        else if (r === 'added') this.log.info({ log: e.log.toString('hex'), node: e.node.toString('hex'), from: s.remoteKey.toString('hex') }, 'carrying a new log')
      }, err => { this.log.error({ err }, 'adding a log failed') })
    }
  }

  /** Tells a peer which blocks of a log are messages, text or bulky, as far as our index knows. */
  private onPriorityRequest (s: Session, req: PriorityRequest): void {
    s.pendingRequests++
    const known = this.logs.has(req.log)
    const answer = known ? this.store.priorityRuns(req.log, req.from, req.to, MAX_PRIORITY_RUNS) : Promise.resolve({ runs: [], end: req.from })
    answer.then(({ runs, end }) => { s.answerPriorities({ log: req.log, from: req.from, end, runs }) }, err => {
      this.log.warn({ err }, 'answering a priority request failed')
    }).finally(() => { s.pendingRequests-- })
  }

  private announce (e: LogEntry): void {
    for (const s of this.sessions.values()) if (s.ready) s.sendLogs([e])
  }

  private onViolation (s: Session, reason: string): void {
    this.violations++
    const hex = s.remoteKey.toString('hex')
    this.log.warn({ peer: hex, host: s.host, reason }, 'dropping a sync peer')
    if (this.bans.size >= MAX_BANS) {
      const now = Date.now()
      for (const [k, until] of this.bans) if (until <= now) this.bans.delete(k)
      if (this.bans.size >= MAX_BANS) this.bans.clear()
    }
    this.bans.set(hex, Date.now() + BAN_MS)
  }

  private onClose (s: Session): void {
    const hex = s.remoteKey.toString('hex')
    if (this.sessions.get(hex) !== s) return
    this.sessions.delete(hex)
    this.clock?.peerGone(hex)
    if (s.ready) this.log.info({ peer: hex, source: s.source }, 'sync peer disconnected')
    this.dialer.sessionClosed(hex)
  }

  private noteRelay (hex: string): void {
    if (this.relays.size >= MAX_KNOWN_RELAYS) this.relays.clear()
    this.relays.add(hex)
  }

  /** The node's time (ms): its clock when it has one, else the system clock. */
  now (): number {
    return this.clock?.now() ?? Date.now()
  }

  /** Whether a peer (key, hex) proved membership with a relay certificate: it carries data off the site. */
  isRelay (hex: string): boolean {
    return this.relays.has(hex)
  }

  /** Sources of the peers that proved membership, by key (hex): the delivery view's input. */
  peerSources (): Map<string, PeerSource> {
    const m = new Map<string, PeerSource>()
    for (const [hex, s] of this.sessions) if (s.ready) m.set(hex, s.source)
    return m
  }

  /** GET /api/sync */
  status (): Record<string, unknown> {
    return {
      node: this.keyPair.publicKey.toString('hex'),
      community: { name: this.community.name, discoveryId: discoveryId(this.community.publicKey), open: this.community.open, admitted: this.admitted, writer: this.writer },
      role: this.relay ? 'relay' : 'hotspot',
      protocol: SYNC_PROTOCOL,
      listen: this.address,
      peers: [...this.sessions.values()].map(s => ({
        key: s.remoteKey.toString('hex'),
        // how found: a peer we also found (LAN, static) that happened to dial us first counts as found
        source: s.source === 'incoming' ? this.dialer.sourceOf(s.remoteKey.toString('hex')) ?? 'incoming' : s.source,
        dialed: s.stream.isInitiator,
        host: s.host ?? null,
        port: s.port ?? null,
        since: new Date(s.since).toISOString(),
        connected: s.ready,
        bytesIn: s.bytesIn,
        bytesOut: s.bytesOut,
        logsReceived: s.logsReceived,
        logsRefused: s.logsRefused,
        // what its clock said when it connected (a garbage value shows as null)
        clock: s.remoteClock === null ? null : { said: isoOrNull(s.remoteClock.now), heard: new Date(s.remoteClock.heardAt).toISOString(), online: s.remoteClock.online }
      })),
      addresses: this.dialer.status(),
      droppedPeers: this.violations,
      logs: this.logs.status()
    }
  }

  /** Stops dialing and listening, closes every connection, then the replicated logs. Idempotent. */
  async close (): Promise<void> {
    if (this.closing === null) this.closing = this.doClose()
    await this.closing
  }

  private async doClose (): Promise<void> {
    this.offEvent?.()
    this.dialer.close()
    const server = this.server
    const serverClosed = server === null ? Promise.resolve() : new Promise<void>(resolve => { server.close(() => { resolve() }) })
    const streams = [...this.pending, ...[...this.sessions.values()].map(s => s.stream)]
    await Promise.all(streams.map(async s => await new Promise<void>(resolve => {
      if (s.destroyed) { resolve(); return }
      s.once('close', () => { resolve() })
      s.destroy()
    })))
    await serverClosed
    await this.logs.close()
  }
}

export { addressKey }

function isoOrNull (ms: number): string | null {
  const d = new Date(ms)
  return Number.isNaN(d.getTime()) ? null : d.toISOString()
}
