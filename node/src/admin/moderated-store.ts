import type { EventSource, Filter, NostrEvent } from '../events/types.js'
import type { EventStore, IngestResult } from '../store/types.js'
import type { Limits } from '../config/types.js'
import { normalizeFilter } from '../events/filter.js'
import { newestFirst } from '../store/query.js'
import type { Moderation } from './moderation.js'

/** Stored events a query may look at past hidden ones, per REQ, before it answers with fewer. */
export const MAX_SCANNED = 10_000

export const BLOCKED_AUTHOR = 'blocked: the operator of this node does not accept events from this key'
export const BLOCKED_EVENT = 'blocked: the operator of this node has hidden this event'

/**
 * The store as this node shows it: the site's moderation policy in front of the store's
 * outputs (queries and live events, hence the relay's REQ and fan-out and the mirror) and in
 * front of what its own clients publish. The store itself is untouched: replicated events of
 * blocked authors are still stored and carried on to other nodes, only never served here.
 */
export class ModeratedStore implements EventStore {
  constructor (
    private readonly store: EventStore,
    private readonly policy: Moderation,
    private readonly limits: Pick<Limits, 'maxLimit' | 'defaultLimit'>
  ) {}

  async ingest (event: unknown, source: EventSource): Promise<IngestResult> {
    if (source.type === 'client' && typeof event === 'object' && event !== null) {
      const { pubkey, id } = event as { pubkey?: unknown, id?: unknown }
      if (typeof pubkey === 'string' && this.policy.isBlocked(pubkey)) return { ok: false, message: BLOCKED_AUTHOR, accepted: false }
      if (typeof id === 'string' && this.policy.isHidden(id)) return { ok: false, message: BLOCKED_EVENT, accepted: false }
    }
    return await this.store.ingest(event, source)
  }

  count (): number { return this.store.count() }

  onEvent (listener: (event: NostrEvent) => void): () => void {
    // checked when each event goes out, so a block applies at once to open subscriptions
    return this.store.onEvent(e => { if (this.policy.visible(e)) listener(e) })
  }

  /**
   * Each filter's `limit` counts shown events: when hidden ones took places, the filter is
   * asked again further back in time (`until` the oldest second seen, skipping the events of
   * that second already looked at; twice as many each round) until the limit is met, the
   * store has no more, or MAX_SCANNED events were looked at.
   */
  async query (filters: Filter[]): Promise<NostrEvent[]> {
    if (this.policy.empty) return await this.store.query(filters)
    const budget = { left: MAX_SCANNED }
    const seen = new Set<string>()
    const out: NostrEvent[] = []
    for (const f of filters) {
      for (const e of await this.queryOne(f, budget)) {
        if (seen.has(e.id)) continue
        seen.add(e.id)
        out.push(e)
      }
    }
    if (filters.length > 1) out.sort(newestFirst)
    return out
  }

  private async queryOne (raw: Filter, budget: { left: number }): Promise<NostrEvent[]> {
    const f: Filter = { ...raw }
    // exact lists narrow at once: no blocked author or hidden id is even looked up
    if (Array.isArray(f.authors)) {
      f.authors = f.authors.filter(a => !this.policy.isBlocked(a))
      if (f.authors.length === 0) return []
    }
    if (Array.isArray(f.ids)) {
      f.ids = f.ids.filter(id => !this.policy.isHidden(id))
      if (f.ids.length === 0) return []
    }
    const want = normalizeFilter(f, this.limits).limit ?? 0
    const kept: NostrEvent[] = []
    if (want === 0) return kept
    let until = f.until
    // ids of the second `until` already looked at (until is inclusive)
    let edge = new Set<string>()
    // after a round that came back short, ask for twice as many: few rounds even when most is hidden
    let step = want
    for (;;) {
      const ask = Math.min(this.limits.maxLimit, Math.max(want - kept.length, step) + edge.size)
      step *= 2
      const got = await this.store.query([{ ...f, ...(until === undefined ? {} : { until }), limit: ask }])
      budget.left -= got.length
      for (const e of got) {
        if (edge.has(e.id)) continue
        if (this.policy.visible(e)) kept.push(e)
        if (kept.length === want) return kept
      }
      const last = got[got.length - 1]
      if (got.length < ask || last === undefined || budget.left <= 0) return kept
      const atLast = got.filter(e => e.created_at === last.created_at).map(e => e.id)
      edge = last.created_at === until ? new Set([...edge, ...atLast]) : new Set(atLast)
      until = last.created_at
      // more events in one second than one query returns: move past that second
      if (edge.size >= this.limits.maxLimit) {
        if (until === 0) return kept
        until -= 1
        edge = new Set()
      }
    }
  }
}
