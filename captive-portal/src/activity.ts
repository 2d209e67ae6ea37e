import type { Relay, SubHandle } from './lib/relay.js'
import { type KeyValueStore, type NostrEvent, now } from './lib/types.js'

/** When this phone last looked at its Activity page (unix seconds), per key. */
export const ACTIVITY_SEEN = 'outpost.activity'

/** Counted at most: the badge says "99+" past it anyway. */
const MAX_COUNTED = 100

/** Other people's replies, mentions (kind 1 with a `p` tag naming me) and likes (kind 7) of mine. */
export function isActivity (e: NostrEvent, me: string): boolean {
  if (e.pubkey === me || (e.kind !== 1 && e.kind !== 7)) return false
  if (e.kind === 7 && e.content === '-') return false
  return e.tags.some(t => t[0] === 'p' && t[1] === me)
}

function loadSeen (store: KeyValueStore, me: string): number | null {
  try {
    const v = JSON.parse(store.getItem(ACTIVITY_SEEN) ?? '{}') as Record<string, unknown>
    const t = v[me]
    return typeof t === 'number' && Number.isFinite(t) ? t : null
  } catch {
    return null
  }
}

function saveSeen (store: KeyValueStore, me: string, t: number): void {
  let v: Record<string, unknown> = {}
  try { v = JSON.parse(store.getItem(ACTIVITY_SEEN) ?? '{}') as Record<string, unknown> } catch {}
  if (typeof v !== 'object' || v === null || Array.isArray(v)) v = {}
  v[me] = t
  store.setItem(ACTIVITY_SEEN, JSON.stringify(v))
}

/**
 * What happened to me since I last looked: a live subscription to the replies, mentions and likes
 * naming my key newer than the last visit to the Activity page (kept on the phone), counted for
 * the badge. A key new to this phone starts counting from now, not from all of its past.
 */
export class Activity {
  private readonly fresh = new Set<string>()
  private sub: SubHandle | null = null
  /** the newest activity heard of: a look sees it even if its date is ahead of this phone's clock */
  private newest = 0
  seen: number

  constructor (readonly me: string, private readonly relay: Relay, private readonly store: KeyValueStore, private readonly changed: () => void) {
    const seen = loadSeen(store, me)
    this.seen = seen ?? now()
    if (seen === null) saveSeen(store, me, this.seen)
  }

  get unread (): number { return this.fresh.size }

  start (): void {
    this.sub ??= this.relay.subscribe([{ kinds: [1, 7], '#p': [this.me], since: this.seen + 1 }], e => {
      if (e.created_at <= this.seen || !isActivity(e, this.me)) return
      this.newest = Math.max(this.newest, e.created_at)
      if (this.fresh.has(e.id) || this.fresh.size >= MAX_COUNTED) return
      this.fresh.add(e.id)
      this.changed()
    })
  }

  /** The Activity page is open: everything up to now is seen. */
  markSeen (): void {
    const t = Math.max(now(), this.newest)
    if (t > this.seen) {
      this.seen = t
      saveSeen(this.store, this.me, t)
    }
    if (this.fresh.size === 0) return
    this.fresh.clear()
    this.changed()
  }

  stop (): void {
    this.sub?.close()
    this.sub = null
  }
}
