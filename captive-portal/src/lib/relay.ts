import type { Filter, NostrEvent } from './types.js'
import type { Outbox } from './outbox.js'

export type Status = 'connecting' | 'connected' | 'reconnecting'

interface Sub {
  id: string
  filters: Filter[]
  onEvent: (e: NostrEvent) => void
  onEose?: () => void
  /** one-shot queries close at EOSE and are not re-sent after a reconnect once done */
  once: boolean
  sent: boolean
  /** refused with auth-required: sent again once this connection has authenticated */
  authWait?: boolean
}

/** Signs a NIP-42 AUTH event (kind 22242) for a challenge; null when there is no identity. */
export type AuthSigner = (challenge: string, relayUrl: string) => Promise<NostrEvent | null>

export interface SubHandle { close: () => void }

const MAX_QUERIES = 6
const MAX_IN_FLIGHT = 12
const BACKOFF = [300, 1000, 2000, 4000]

/**
 * The app's one WebSocket to its node: live subscriptions re-sent after every reconnect,
 * one-shot queries (a few at a time: the relay caps subscriptions per connection) and the
 * outbox flushed whenever the socket opens.
 */
export class Relay {
  status: Status = 'connecting'
  private ws: WebSocket | null = null
  private readonly subs = new Map<string, Sub>()
  private readonly waiting: Sub[] = []
  private seq = 0
  private attempt = 0
  private timer: ReturnType<typeof setTimeout> | null = null
  private readonly inFlight = new Set<string>()
  private readonly listeners = new Set<() => void>()
  private readonly okListeners = new Map<string, (ok: boolean, msg: string) => void>()
  private stopped = false
  /** NIP-42: the node serves private messages (kind 1059) only to their recipient */
  authSigner: AuthSigner | null = null
  private authId: string | null = null
  private authTries = 0

  constructor (private readonly url: string, readonly outbox: Outbox) {
    outbox.onChange(() => this.emit())
  }

  start (): void {
    this.connect()
    addEventListener('online', () => this.retryNow())
    addEventListener('offline', () => this.ws?.close())
  }

  onChange (fn: () => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  /** A live subscription, kept across reconnects until closed. */
  subscribe (filters: Filter[], onEvent: (e: NostrEvent) => void, onEose?: () => void): SubHandle {
    return this.add({ id: 's' + (++this.seq), filters, onEvent, onEose, once: false, sent: false })
  }

  /** Stored events matching the filters, up to EOSE. */
  async query (filters: Filter[]): Promise<NostrEvent[]> {
    return await new Promise(resolve => {
      const out: NostrEvent[] = []
      this.add({ id: 'q' + (++this.seq), filters, onEvent: e => out.push(e), onEose: () => resolve(out), once: true, sent: false })
    })
  }

  /** Queues a signed event (persisted) and sends it as soon as the socket is open. */
  publish (ev: NostrEvent, onOk?: (ok: boolean, msg: string) => void): void {
    if (onOk !== undefined) this.okListeners.set(ev.id, onOk)
    this.outbox.add(ev)
    this.flush()
  }

  retryNow (): void {
    if (this.ws !== null || this.stopped) return
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.connect()
  }

  private add (sub: Sub): SubHandle {
    if (sub.once && this.activeQueries() >= MAX_QUERIES) this.waiting.push(sub)
    else this.subs.set(sub.id, sub)
    this.sendSub(sub)
    return { close: () => this.close(sub) }
  }

  private activeQueries (): number {
    let n = 0
    for (const s of this.subs.values()) if (s.once) n++
    return n
  }

  private close (sub: Sub): void {
    const i = this.waiting.indexOf(sub)
    if (i >= 0) this.waiting.splice(i, 1)
    if (this.subs.delete(sub.id) && sub.sent) this.send(['CLOSE', sub.id])
    this.next()
  }

  private next (): void {
    while (this.waiting.length > 0 && this.activeQueries() < MAX_QUERIES) {
      const s = this.waiting.shift() as Sub
      this.subs.set(s.id, s)
      this.sendSub(s)
    }
  }

  private sendSub (sub: Sub): void {
    if (!this.subs.has(sub.id) || this.ws?.readyState !== 1 || sub.authWait === true) return
    sub.sent = true
    this.send(['REQ', sub.id, ...sub.filters])
  }

  private send (msg: unknown[]): void {
    if (this.ws?.readyState === 1) this.ws.send(JSON.stringify(msg))
  }

  private flush (): void {
    if (this.ws?.readyState !== 1) return
    for (const ev of this.outbox.pending) {
      if (this.inFlight.size >= MAX_IN_FLIGHT) break
      if (this.inFlight.has(ev.id)) continue
      this.inFlight.add(ev.id)
      this.send(['EVENT', ev])
    }
  }

  private connect (): void {
    this.setStatus(this.attempt === 0 ? 'connecting' : 'reconnecting')
    let ws: WebSocket
    try {
      ws = new WebSocket(this.url)
    } catch {
      this.scheduleReconnect()
      return
    }
    this.ws = ws
    ws.onopen = () => {
      this.setStatus('connected')
      for (const s of this.subs.values()) this.sendSub(s)
      this.flush()
    }
    ws.onmessage = m => this.onMessage(m.data)
    ws.onclose = () => {
      if (this.ws !== ws) return
      this.ws = null
      this.inFlight.clear()
      // the node's last "try again later" may no longer hold: the next answer says again
      this.outbox.retryReason = null
      this.authId = null
      this.authTries = 0
      // a new connection gets a new challenge: they ask again, and authenticate again if told to
      for (const s of this.subs.values()) { s.sent = false; s.authWait = false }
      this.scheduleReconnect()
    }
    ws.onerror = () => ws.close()
  }

  private scheduleReconnect (): void {
    this.setStatus('reconnecting')
    const delay = BACKOFF[Math.min(this.attempt, BACKOFF.length - 1)] as number
    this.attempt++
    this.timer = setTimeout(() => { this.timer = null; this.connect() }, delay)
  }

  private onMessage (data: unknown): void {
    // the backoff resets only once the relay answers: a socket that opens and drops is no success
    this.attempt = 0
    if (typeof data !== 'string') return
    let msg: unknown
    try {
      msg = JSON.parse(data)
    } catch {
      return
    }
    if (!Array.isArray(msg)) return
    const [type, a, b, c] = msg as [unknown, unknown, unknown, unknown]
    if (type === 'EVENT' && typeof a === 'string' && isEvent(b)) {
      this.subs.get(a)?.onEvent(b)
    } else if (type === 'EOSE' && typeof a === 'string') {
      const s = this.subs.get(a)
      if (s === undefined) return
      if (s.once) this.close(s)
      s.onEose?.()
    } else if (type === 'AUTH' && typeof a === 'string') {
      void this.authenticate(a)
    } else if (type === 'CLOSED' && typeof a === 'string') {
      const s = this.subs.get(a)
      if (s === undefined) return
      if (!s.once && typeof b === 'string' && b.startsWith('auth-required:') && this.authSigner !== null) {
        s.sent = false
        s.authWait = true
        return
      }
      this.subs.delete(a)
      if (s.once) s.onEose?.()
      else setTimeout(() => { if (!this.stopped) this.add(s) }, 2000)
      this.next()
    } else if (type === 'OK' && typeof a === 'string' && a === this.authId) {
      this.authId = null
      if (b !== true) {
        // e.g. signed before the node's clock was learned: try again shortly, a few times
        const ws = this.ws
        if (++this.authTries < 3 && this.lastChallenge !== null) {
          const c = this.lastChallenge
          setTimeout(() => { if (this.ws === ws) void this.authenticate(c) }, 2000)
        }
        return
      }
      for (const s of this.subs.values()) {
        if (s.authWait !== true) continue
        s.authWait = false
        this.sendSub(s)
      }
    } else if (type === 'OK' && typeof a === 'string') {
      this.inFlight.delete(a)
      const ok = b === true
      const text = typeof c === 'string' ? c : ''
      const verdict = this.outbox.settle(a, ok, text)
      const cb = this.okListeners.get(a)
      if (cb !== undefined && verdict !== 'retry') { this.okListeners.delete(a); cb(verdict === 'sent', text) }
      if (verdict === 'retry') setTimeout(() => this.flush(), 3000)
      else this.flush()
    }
  }

  private lastChallenge: string | null = null

  private async authenticate (challenge: string): Promise<void> {
    const ws = this.ws
    this.lastChallenge = challenge
    const ev = await this.authSigner?.(challenge, this.url)
    if (ev === null || ev === undefined || this.ws !== ws) return
    this.authId = ev.id
    this.send(['AUTH', ev])
  }

  private setStatus (s: Status): void {
    if (this.status === s) return
    this.status = s
    this.emit()
  }

  private emit (): void {
    for (const fn of this.listeners) fn()
  }
}

function isEvent (v: unknown): v is NostrEvent {
  if (v === null || typeof v !== 'object') return false
  const e = v as Record<string, unknown>
  return typeof e.id === 'string' && typeof e.pubkey === 'string' && typeof e.kind === 'number' &&
    typeof e.created_at === 'number' && typeof e.content === 'string' && Array.isArray(e.tags) &&
    e.tags.every(t => Array.isArray(t) && t.every(x => typeof x === 'string'))
}
