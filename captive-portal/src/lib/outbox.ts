import type { KeyValueStore, NostrEvent } from './types.js'

export const OUTBOX_STORAGE = 'outpost.outbox'
export const WRITTEN_STORAGE = 'outpost.written'

export type Verdict = 'sent' | 'retry' | 'rejected'

/**
 * What an OK answer means for a queued event. The relay dedupes by id, so "duplicate" is
 * success: the event is there exactly once however often it was sent.
 */
export function verdictOf (accepted: boolean, message: string): Verdict {
  if (accepted) return 'sent'
  const prefix = message.split(':')[0] ?? ''
  if (prefix === 'duplicate') return 'sent'
  if (prefix === 'rate-limited' || prefix === 'error' || prefix === 'auth-required') return 'retry'
  return 'rejected'
}

export interface Rejected { event: NostrEvent, reason: string }

/** Why the node asks to send again later, as a person reads it ("error: ... storage is full" -> a sentence). */
export function retryText (message: string): string {
  if (/storage is full/i.test(message)) return 'the node\'s storage is full; sent once space is freed'
  const i = message.indexOf(':')
  return (i >= 0 ? message.slice(i + 1) : message).trim()
}

/**
 * Signed events waiting for the relay's OK, persisted on every change so a reload or a closed
 * tab loses nothing. Order is kept (a profile before the posts written after it).
 */
export class Outbox {
  private items: NostrEvent[]
  readonly rejected: Rejected[] = []
  /** The node's last "try again later" for a queued event (null once one is taken): shown beside "waiting to send". */
  retryReason: string | null = null
  private readonly listeners = new Set<() => void>()

  constructor (private readonly store: KeyValueStore, private readonly key = OUTBOX_STORAGE) {
    this.items = readList(store, key)
  }

  get pending (): readonly NostrEvent[] {
    return this.items
  }

  get size (): number {
    return this.items.length
  }

  has (id: string): boolean {
    return this.items.some(e => e.id === id)
  }

  add (ev: NostrEvent): void {
    if (this.has(ev.id)) return
    this.items.push(ev)
    this.save()
  }

  /** Applies the relay's OK for `id`; returns what happened to it. */
  settle (id: string, accepted: boolean, message: string): Verdict | null {
    const i = this.items.findIndex(e => e.id === id)
    if (i < 0) return null
    const v = verdictOf(accepted, message)
    if (v === 'retry') {
      const reason = retryText(message)
      if (reason !== this.retryReason) { this.retryReason = reason === '' ? null : reason; this.save() }
      return v
    }
    if (v === 'sent') this.retryReason = null
    const [ev] = this.items.splice(i, 1)
    if (v === 'rejected' && ev !== undefined) this.rejected.push({ event: ev, reason: message })
    this.save()
    return v
  }

  onChange (fn: () => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  private save (): void {
    try {
      this.store.setItem(this.key, JSON.stringify(this.items))
    } catch {
      // storage full or unavailable: the queue still lives in memory
    }
    for (const fn of this.listeners) fn()
  }
}

function readList (store: KeyValueStore, key: string): NostrEvent[] {
  try {
    const v: unknown = JSON.parse(store.getItem(key) ?? '[]')
    return Array.isArray(v) ? v.filter(isEventLike) : []
  } catch {
    return []
  }
}

function isEventLike (v: unknown): v is NostrEvent {
  if (v === null || typeof v !== 'object') return false
  const e = v as Record<string, unknown>
  return typeof e.id === 'string' && typeof e.sig === 'string' && typeof e.pubkey === 'string' &&
    typeof e.kind === 'number' && typeof e.created_at === 'number' && typeof e.content === 'string' && Array.isArray(e.tags)
}

/** One signed event per line, oldest first, duplicates dropped: the user's data as a file. */
export function toJsonLines (events: Iterable<NostrEvent>): string {
  const byId = new Map<string, NostrEvent>()
  for (const e of events) byId.set(e.id, e)
  const list = [...byId.values()].sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1))
  return list.map(e => JSON.stringify({ id: e.id, pubkey: e.pubkey, created_at: e.created_at, kind: e.kind, tags: e.tags, content: e.content, sig: e.sig }) + '\n').join('')
}
