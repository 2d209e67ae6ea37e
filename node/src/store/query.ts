import type { Filter, NostrEvent } from '../events/types.js'
import { compileFilter } from '../events/filter.js'
import { expiration } from '../events/event.js'
import type RocksDB from 'rocksdb-native'
import type { IndexDb } from './index-db.js'
import { decodeStored } from './indexer.js'
import * as K from './keys.js'

type Cursor = { it: AsyncIterator<RocksDB.Entry>, src: RocksDB.Iterator, head: Buffer | null }

const MAX_PAIRS = 256

/** Picks the most selective index for a filter: one time-ordered range per value. */
function plan (f: Filter, since: number, until: number): Array<{ gte: Buffer, lte: Buffer }> {
  const { authors, kinds } = f
  if (authors !== undefined && kinds !== undefined && authors.length * kinds.length <= MAX_PAIRS) {
    return authors.flatMap(a => kinds.map(k => K.timeRange(K.P.authorKind, [K.hex(a), [k, 2]], since, until)))
  }
  if (authors !== undefined) return authors.map(a => K.timeRange(K.P.author, [K.hex(a)], since, until))
  let best: { letter: string, values: string[] } | null = null
  for (const key of Object.keys(f)) {
    const values = f[key as `#${string}`]
    if (key[0] !== '#' || values === undefined) continue
    if (best === null || values.length < best.values.length) best = { letter: key.slice(1), values }
  }
  if (best !== null) {
    const letter = Buffer.from([best.letter.charCodeAt(0) & 0xff])
    return best.values.map(v => K.timeRange(K.P.tag, [letter, K.h16(v)], since, until))
  }
  if (kinds !== undefined) return kinds.map(k => K.timeRange(K.P.kind, [[k, 2]], since, until))
  return [K.timeRange(K.P.created, [], since, until)]
}

async function advance (c: Cursor): Promise<void> {
  const r = await c.it.next()
  c.head = r.done === true ? null : r.value.key
}

/**
 * Newest-first events for one filter (limit already normalized), via a k-way merge of
 * reverse index scans; every candidate is checked against the full filter.
 */
export async function queryFilter (idx: IndexDb, f: Filter, now: number): Promise<NostrEvent[]> {
  const limit = f.limit ?? Infinity
  if (limit <= 0) return []
  const match = compileFilter(f)
  const live = (e: NostrEvent): boolean => {
    const exp = expiration(e)
    return (exp === null || exp > now) && match(e)
  }

  if (f.ids !== undefined) {
    const found = await idx.getMany(f.ids.map(id => K.eventKey(K.hex(id))))
    const out: NostrEvent[] = []
    for (const v of found) {
      if (v === null) continue
      const { event } = decodeStored(v)
      if (live(event)) out.push(event)
    }
    out.sort(newestFirst)
    return out.slice(0, limit)
  }

  const since = f.since ?? 0
  const until = f.until ?? K.MAX_TS
  if (since > until) return []
  const ranges = plan(f, since, until)
  const capacity = ranges.length > 1 ? 16 : Math.min(Math.max(limit, 8), 256)
  const cursors: Cursor[] = ranges.map(r => {
    const src = idx.iterator({ ...r, reverse: true, values: false, capacity })
    return { src, it: src[Symbol.asyncIterator](), head: null }
  })
  const out: NostrEvent[] = []
  const seen = new Set<string>()
  try {
    await Promise.all(cursors.map(advance))
    while (out.length < limit) {
      // take the next chunk of candidate ids in time order, then fetch them in one read batch
      const ids: Buffer[] = []
      const want = Math.min(Math.max(limit - out.length, 8), 128)
      while (ids.length < want) {
        let best: Cursor | null = null
        for (const c of cursors) {
          if (c.head !== null && (best === null || Buffer.compare(timeOf(c.head), timeOf(best.head as Buffer)) > 0)) best = c
        }
        if (best === null) break
        const id = K.splitTimeKey(best.head as Buffer).id
        const hexId = id.toString('hex')
        if (!seen.has(hexId)) { seen.add(hexId); ids.push(Buffer.from(id)) }
        await advance(best)
      }
      if (ids.length === 0) break
      const values = await idx.getMany(ids.map(K.eventKey))
      for (const v of values) {
        if (v === null) continue
        const { event } = decodeStored(v)
        if (live(event)) out.push(event)
        if (out.length >= limit) break
      }
    }
  } finally {
    for (const c of cursors) c.src.destroy()
  }
  return out
}

/** ts(4) + id(32) at the end of a time-ordered key: compares by time, then id. */
const timeOf = (k: Buffer): Buffer => k.subarray(k.length - 36)

export function newestFirst (a: NostrEvent, b: NostrEvent): number {
  if (a.created_at !== b.created_at) return b.created_at - a.created_at
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}
