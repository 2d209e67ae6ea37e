import type { Logger } from 'pino'

export interface PeerAddress { host: string, port: number, source: 'static' | 'lan' }

interface Entry extends PeerAddress {
  attempts: number
  timer: NodeJS.Timeout | null
  dialing: boolean
  /** The key found behind this address at the last handshake. */
  key: string | null
  lastError: string | null
}

const BASE_MS = 500
const MAX_MS = 30_000

export const addressKey = (p: { host: string, port: number }): string => `${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}`

/**
 * Known peer addresses, each dialed until a session stands, with exponential backoff and
 * jitter. An address whose peer is already connected (e.g. it dialed us first) is not
 * dialed again until that session ends: one connection per peer pair.
 */
export class Dialer {
  private readonly entries = new Map<string, Entry>()
  private readonly dial: (p: PeerAddress) => Promise<{ key: string, closed: Promise<{ lasted: number }> }>
  private readonly connected: (key: string) => boolean
  private readonly log: Logger
  private closed = false

  constructor (opts: { dial: Dialer['dial'], connected: (key: string) => boolean, log: Logger }) {
    this.dial = opts.dial
    this.connected = opts.connected
    this.log = opts.log
  }

  add (p: PeerAddress): void {
    const k = addressKey(p)
    if (this.closed || this.entries.has(k)) return
    const e: Entry = { host: p.host, port: p.port, source: p.source, attempts: 0, timer: null, dialing: false, key: null, lastError: null }
    this.entries.set(k, e)
    this.schedule(e, 0)
  }

  remove (p: { host: string, port: number }): void {
    const k = addressKey(p)
    const e = this.entries.get(k)
    if (e === undefined) return
    if (e.timer !== null) clearTimeout(e.timer)
    this.entries.delete(k)
  }

  /** A session with `key` ended: dial the addresses that lead to it again soon. */
  sessionClosed (key: string): void {
    for (const e of this.entries.values()) if (e.key === key && !e.dialing) this.schedule(e, BASE_MS)
  }

  private schedule (e: Entry, ms: number): void {
    if (this.closed || this.entries.get(addressKey(e)) !== e) return
    if (e.timer !== null) clearTimeout(e.timer)
    e.timer = setTimeout(() => { e.timer = null; this.attempt(e) }, ms)
    e.timer.unref()
  }

  private backoff (e: Entry): number {
    const ms = Math.min(MAX_MS, BASE_MS * 2 ** Math.min(e.attempts, 16))
    return Math.round(ms / 2 + Math.random() * ms / 2)
  }

  private attempt (e: Entry): void {
    if (this.closed || e.dialing) return
    // already connected to whoever is behind this address: nothing to do until that ends
    if (e.key !== null && this.connected(e.key)) return
    e.dialing = true
    e.attempts++
    this.dial(e).then(async ({ key, closed }) => {
      e.key = key
      e.lastError = null
      const { lasted } = await closed
      if (lasted > 10_000) e.attempts = 0
    }, (err: Error) => {
      e.lastError = err.message
      this.log.debug({ peer: addressKey(e), err: err.message, attempts: e.attempts }, 'dial failed')
    }).finally(() => {
      e.dialing = false
      this.schedule(e, this.backoff(e))
    })
  }

  /** How the peer with this key was found by us (an address of ours led to it), or null. */
  sourceOf (key: string): PeerAddress['source'] | null {
    for (const e of this.entries.values()) if (e.key === key) return e.source
    return null
  }

  status (): Array<Record<string, unknown>> {
    return [...this.entries.values()].map(e => ({ host: e.host, port: e.port, source: e.source, key: e.key, attempts: e.attempts, lastError: e.lastError }))
  }

  close (): void {
    this.closed = true
    for (const e of this.entries.values()) if (e.timer !== null) clearTimeout(e.timer)
    this.entries.clear()
  }
}
