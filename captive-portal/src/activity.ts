import type { Relay, SubHandle } from './lib/relay.js'
import { HEX64, type KeyValueStore, type NostrEvent } from './lib/types.js'

/** The activity this phone has seen, per key: ids, the most recently seen last. */
export const ACTIVITY_SEEN = 'outpost.activity'

/** The newest activity asked for when the page opens (the node sends older-dated arrivals live). */
const WINDOW = 100
/** Seen ids kept per key: more than the window, so nothing in it is ever counted twice. */
const MAX_SEEN = 500

/** Other people's replies, mentions (kind 1 with a `p` tag naming me) and likes (kind 7) of mine. */
export function isActivity (e: NostrEvent, me: string): boolean {
  if (e.pubkey === me || (e.kind !== 1 && e.kind !== 7)) return false
  if (e.kind === 7 && e.content === '-') return false
  return e.tags.some(t => t[0] === 'p' && t[1] === me)
}

function loadAll (store: KeyValueStore): Record<string, unknown> {
  try {
    const v = JSON.parse(store.getItem(ACTIVITY_SEEN) ?? '{}') as unknown
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : {}
  } catch {
    return {}
  }
}

/** The ids seen by this key, or null: this key never looked on this phone. */
function loadSeen (store: KeyValueStore, me: string): string[] | null {
  const ids = loadAll(store)[me]
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string' && HEX64.test(id)) : null
}

function saveSeen (store: KeyValueStore, me: string, ids: string[]): void {
  const all = loadAll(store)
  all[me] = ids.slice(-MAX_SEEN)
  store.setItem(ACTIVITY_SEEN, JSON.stringify(all))
}

/**
 * What happened to me since I last looked: a live subscription to the replies, mentions and likes
 * naming my key, and the count of those not seen yet. Seen is by event, not by date: in a mesh a
 * reply written hours ago at another site arrives when a relay brings it, and it is new to me
 * then. A key new to this phone counts from now: what the node already holds is taken as seen.
 */
export class Activity {
  private readonly fresh = new Set<string>()
  private seen: string[]
  private readonly seenSet: Set<string>
  /** this key never looked on this phone: the first page is its past, not news */
  private baseline: boolean
  private sub: SubHandle | null = null

  constructor (readonly me: string, private readonly relay: Relay, private readonly store: KeyValueStore, private readonly changed: () => void) {
    const seen = loadSeen(store, me)
    this.baseline = seen === null
    this.seen = seen ?? []
    this.seenSet = new Set(this.seen)
  }

  get unread (): number { return this.fresh.size }

  start (): void {
    this.sub ??= this.relay.subscribe([{ kinds: [1, 7], '#p': [this.me], limit: WINDOW }], e => {
      if (!isActivity(e, this.me) || this.seenSet.has(e.id)) return
      if (this.baseline) { this.see(e.id); return }
      if (this.fresh.has(e.id)) return
      this.fresh.add(e.id)
      this.changed()
    }, () => {
      if (!this.baseline) return
      this.baseline = false
      saveSeen(this.store, this.me, this.seen)
    })
  }

  private see (id: string): void {
    this.seenSet.add(id)
    this.seen.push(id)
  }

  /** The Activity page is open: everything heard so far is seen. */
  markSeen (): void {
    if (this.fresh.size === 0) return
    for (const id of this.fresh) this.see(id)
    this.fresh.clear()
    if (this.seen.length > MAX_SEEN) {
      for (const id of this.seen.splice(0, this.seen.length - MAX_SEEN)) this.seenSet.delete(id)
    }
    saveSeen(this.store, this.me, this.seen)
    this.changed()
  }

  stop (): void {
    this.sub?.close()
    this.sub = null
  }
}
