import type { Duplex } from 'node:stream'
import { WebSocket, type RawData } from 'ws'
import type { Logger } from 'pino'
import type { Filter, NostrEvent } from '../events/types.js'
import type { EventStore, IngestResult } from '../store/types.js'
import type { Limits } from '../config/types.js'
import { compileFilters, filterError, normalizeFilter } from '../events/filter.js'
import { msg, parseClientMessage, sniffEventId, subIdError } from './messages.js'
import { TokenBucket, type IpTable } from './rate-limit.js'
import type { SignatureVerifier } from '../events/verify.js'
import { authError, needsAuth, newChallenge, visibleTo } from './auth.js'

/** What every connection of one relay shares. */
export interface ConnectionContext {
  store: EventStore
  limits: Limits
  ips: IpTable
  log: Logger
  /** Outgoing bytes queued for a connection before live delivery closes it as too slow. */
  maxBufferedBytes: number
  /** Live events held per subscription while its stored query runs. */
  maxPending: number
  /** Checks NIP-42 AUTH events (rare: the pure-JS one is fine). */
  verifier: SignatureVerifier
  /** The node's clock, seconds (NIP-42 AUTH events are dated by it). */
  now: () => number
}

interface Subscription {
  id: string
  filters: Filter[]
  match: (e: NostrEvent) => boolean
  /** Live events that arrived while the stored query ran; null once EOSE is sent. */
  pending: NostrEvent[] | null
  overflow: boolean
}

/** Longest `id` echoed back in OK for an event that failed validation. */
const MAX_ECHO_ID = 128

/** One client WebSocket: parses frames, runs its subscriptions, applies its rate limits. */
export class Connection {
  /** Cleared by each ping; set by a pong or any message. */
  alive = true
  private readonly subs = new Map<string, Subscription>()
  private readonly bucket: TokenBucket
  private readonly log: Logger
  private closed = false
  private corked = false
  /** NIP-42: made when first needed, one per connection */
  private challenge: string | null = null
  /** pubkeys this connection proved it holds (NIP-42); gift wraps addressed to them are served */
  private readonly authed = new Set<string>()

  /** `host`: the Host header of the upgrade, which an AUTH event's relay tag must name. */
  constructor (readonly ws: WebSocket, readonly ip: string, private readonly ctx: ConnectionContext, private readonly host: string | null = null) {
    this.log = ctx.log.child({ ip })
    this.bucket = new TokenBucket(ctx.limits.messagesPerSecond, ctx.limits.messagesPerSecond * 2)
    ws.on('message', data => {
      try {
        this.onMessage(data)
      } catch (err) {
        this.log.error({ err }, 'message handler failed')
      }
    })
    ws.on('pong', () => { this.alive = true })
    ws.on('error', err => { this.log.debug({ err }, 'websocket error') })
  }

  get subscriptions (): number {
    return this.subs.size
  }

  /** Stops all work for this connection (its socket closed). */
  dispose (): void {
    this.closed = true
    this.subs.clear()
  }

  /** Live fan-out of one accepted event. `json` serializes it at most once per event. */
  deliver (e: NostrEvent, json: () => string): void {
    if (this.closed || !visibleTo(e, this.authed)) return
    for (const sub of this.subs.values()) {
      if (!sub.match(e)) continue
      if (sub.pending !== null) {
        if (sub.pending.length < this.ctx.maxPending) sub.pending.push(e)
        else sub.overflow = true
        continue
      }
      // A phone that cannot keep up is closed rather than buffered without bound or sent a
      // stream with silent gaps: its client reconnects and resumes with `since`.
      if (this.ws.bufferedAmount > this.ctx.maxBufferedBytes) {
        this.log.info({ buffered: this.ws.bufferedAmount }, 'closing slow connection')
        this.dispose()
        this.ws.close(1008, 'too slow: live events could not be delivered')
        return
      }
      this.send(msg.event(sub.id, json()))
    }
  }

  private send (text: string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return
    this.cork()
    this.ws.send(text)
  }

  /**
   * Holds this tick's outgoing frames (e.g. the OKs of one group commit) in the socket and
   * writes them with one writev once the tick's callbacks are done, instead of a syscall each.
   */
  private cork (): void {
    if (this.corked) return
    const socket = (this.ws as unknown as { _socket?: Duplex })._socket
    if (socket === undefined || socket.writableCorked > 0) return
    this.corked = true
    socket.cork()
    process.nextTick(() => {
      this.corked = false
      socket.uncork()
    })
  }

  /** Sends and, when the socket is backed up, waits until it has flushed. */
  private async sendPaced (text: string): Promise<void> {
    if (this.ws.readyState !== WebSocket.OPEN) return
    // half the close bound, so a large history never trips the slow-client close of deliver()
    this.cork()
    if (this.ws.bufferedAmount <= this.ctx.maxBufferedBytes / 2) {
      this.ws.send(text)
      return
    }
    await new Promise<void>(resolve => { this.ws.send(text, () => { resolve() }) })
  }

  private onMessage (data: RawData): void {
    if (this.closed) return
    this.alive = true
    const frame = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)
    const max = this.ctx.limits.maxFrameBytes
    if (frame.length > max) {
      if (!this.bucket.take()) return this.send(msg.notice('rate-limited: slow down'))
      const reason = `invalid: message too large (max ${max} bytes)`
      const id = sniffEventId(frame)
      this.send(id !== '' ? msg.ok(id, false, reason) : msg.notice(reason))
      return
    }
    const m = parseClientMessage(frame.toString('utf8'))
    if (!this.bucket.take()) {
      const reason = 'rate-limited: slow down'
      if (m.type === 'EVENT') this.send(msg.ok(echoId(m.event), false, reason))
      else if ((m.type === 'REQ' || m.type === 'COUNT') && subIdError(m.subId) === null) this.send(msg.closed(m.subId as string, reason))
      else this.send(msg.notice(reason))
      return
    }
    switch (m.type) {
      case 'error':
        this.send(msg.notice(`invalid: ${m.reason}`))
        break
      case 'EVENT':
        this.onEvent(m.event)
        break
      case 'REQ':
        this.onReq(m.subId, m.filters).catch(err => { this.log.error({ err }, 'REQ handler failed') })
        break
      case 'AUTH':
        this.onAuth(m.event)
        break
      case 'CLOSE': {
        const err = subIdError(m.subId)
        if (err !== null) this.send(msg.notice(`invalid: ${err}`))
        else this.subs.delete(m.subId as string)
        break
      }
      case 'COUNT': {
        const err = subIdError(m.subId)
        if (err !== null) this.send(msg.notice(`invalid: ${err}`))
        else this.send(msg.closed(m.subId as string, 'unsupported: COUNT (NIP-45) is not supported'))
        break
      }
    }
  }

  private onEvent (event: unknown): void {
    const id = echoId(event)
    if (!this.ctx.ips.takeEvent(this.ip)) {
      this.send(msg.ok(id, false, 'rate-limited: too many events from your address, try again in a minute'))
      return
    }
    const reply = (res: IngestResult): void => { this.send(msg.ok(id, res.ok, res.message)) }
    const failed = (err: unknown): void => {
      this.log.error({ err, id }, 'ingest failed')
      reply({ ok: false, message: 'error: the event could not be stored', accepted: false })
    }
    try {
      this.ctx.store.ingest(event, { type: 'client', ip: this.ip }).then(reply, failed)
    } catch (err) {
      failed(err)
    }
  }

  private onAuth (event: unknown): void {
    const id = echoId(event)
    if (this.challenge === null) return this.send(msg.ok(id, false, 'invalid: no challenge was sent on this connection'))
    const err = authError(event, this.challenge, this.host, this.ctx.verifier, this.ctx.now())
    if (err !== null) return this.send(msg.ok(id, false, err))
    this.authed.add((event as NostrEvent).pubkey)
    this.send(msg.ok(id, true, ''))
  }

  private async onReq (subId: unknown, raw: unknown[]): Promise<void> {
    const idErr = subIdError(subId)
    if (idErr !== null) {
      this.send(msg.notice(`invalid: ${idErr}`))
      return
    }
    const id = subId as string
    const { limits } = this.ctx
    const reject = (reason: string): void => {
      this.subs.delete(id)
      this.send(msg.closed(id, reason))
    }
    if (raw.length > limits.maxFilters) return reject(`invalid: too many filters (max ${limits.maxFilters})`)
    for (const f of raw) {
      const err = filterError(f)
      if (err !== null) return reject(`invalid: ${err}`)
    }
    if (!this.subs.has(id) && this.subs.size >= limits.maxSubscriptions) {
      this.send(msg.closed(id, `rate-limited: too many subscriptions (max ${limits.maxSubscriptions})`))
      return
    }

    const filters = (raw as Filter[]).map(f => normalizeFilter(f, limits))
    if (needsAuth(filters, this.authed)) {
      this.challenge ??= newChallenge()
      this.send(msg.auth(this.challenge))
      return reject('auth-required: private messages are served only to their recipient')
    }
    const sub: Subscription = { id, filters, match: compileFilters(filters), pending: [], overflow: false }
    this.subs.set(id, sub)
    const current = (): boolean => !this.closed && this.subs.get(id) === sub

    const queried = filters.filter(f => f.limit !== 0)
    let stored: NostrEvent[] = []
    if (queried.length > 0) {
      try {
        stored = await this.ctx.store.query(queried)
      } catch (err) {
        this.log.error({ err, filters: queried }, 'query failed')
        if (current()) reject('error: the query failed')
        return
      }
    }
    for (const e of stored) {
      if (!current()) return
      if (!visibleTo(e, this.authed)) continue
      await this.sendPaced(msg.event(id, JSON.stringify(e)))
    }
    if (!current()) return
    this.send(msg.eose(id))

    const pending = sub.pending ?? []
    sub.pending = null
    if (sub.overflow) return reject('error: too many new events while loading, subscribe again')
    if (pending.length === 0) return
    const seen = new Set(stored.map(e => e.id))
    for (const e of pending) {
      if (!seen.has(e.id)) this.send(msg.event(id, JSON.stringify(e)))
    }
  }
}

function echoId (event: unknown): string {
  if (typeof event !== 'object' || event === null) return ''
  const id = (event as { id?: unknown }).id
  return typeof id === 'string' && id.length <= MAX_ECHO_ID ? id : ''
}
