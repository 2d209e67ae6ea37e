import type { NostrEvent } from '../events/types.js'
import { expiration, newerThan, replaceKey } from '../events/event.js'
import type { IndexBatch } from './index-db.js'
import * as K from './keys.js'

/** Where an event sits in the logs: log number (index-local), block, offset in block. */
export interface Location { log: number, block: number, offset: number }

export type IndexOutcome = 'stored' | 'duplicate' | 'deleted' | 'replaced' | 'expired'

const EMPTY = Buffer.alloc(0)

export function encodeStored (loc: Location, json: string): Buffer {
  const b = Buffer.allocUnsafe(10 + Buffer.byteLength(json))
  b.writeUInt32BE(loc.log, 0)
  b.writeUInt32BE(loc.block, 4)
  b.writeUInt16BE(loc.offset, 8)
  b.write(json, 10)
  return b
}

export function decodeStored (b: Buffer): { loc: Location, event: NostrEvent } {
  return {
    loc: { log: b.readUInt32BE(0), block: b.readUInt32BE(4), offset: b.readUInt16BE(8) },
    event: JSON.parse(b.toString('utf8', 10)) as NostrEvent
  }
}

/**
 * The binary id and pubkey and the two point-lookup keys of an event (and those keys' latin1
 * names, as IndexBatch keys its maps), built once per event object.
 */
interface EventKeys { id: Buffer, pk: Buffer, event: Buffer, deletedId: Buffer, eventName: string, deletedIdName: string }

const keyCache = new WeakMap<NostrEvent, EventKeys>()

function keysOf (e: NostrEvent): EventKeys {
  let k = keyCache.get(e)
  if (k === undefined) {
    const id = K.hex(e.id)
    const pk = K.hex(e.pubkey)
    const event = K.eventKey(id)
    const deletedId = K.deletedIdKey(id, pk)
    k = { id, pk, event, deletedId, eventName: event.toString('latin1'), deletedIdName: deletedId.toString('latin1') }
    keyCache.set(e, k)
  }
  return k
}

/** Every secondary key an indexed event owns; recomputed from the event to remove it. */
function secondaryKeys (e: NostrEvent): Buffer[] {
  const { id, pk } = keysOf(e)
  const keys = [
    K.createdKey(e.created_at, id),
    K.authorKey(pk, e.created_at, id),
    K.kindKey(e.kind, e.created_at, id),
    K.authorKindKey(pk, e.kind, e.created_at, id)
  ]
  // duplicate tags are written once (a Set only when there is more than one tag)
  const seen = e.tags.length > 1 ? new Set<string>() : null
  for (const t of e.tags) {
    const name = t[0]
    const value = t[1]
    // NIP-01: only single-letter tags are queryable
    if (name === undefined || value === undefined || name.length !== 1) continue
    if (seen !== null) {
      const s = name + '\u0000' + value
      if (seen.has(s)) continue
      seen.add(s)
    }
    keys.push(K.tagKey(name, value, e.created_at, id))
  }
  const exp = expiration(e)
  if (exp !== null) keys.push(K.expiresKey(exp, id))
  return keys
}

/** A head value: the id and created_at of the newest version of a replaceable event. */
function headOf (v: Buffer): { id: string, created_at: number } {
  return { id: v.subarray(0, 32).toString('hex'), created_at: v.readUInt32BE(32) }
}

async function readHead (b: IndexBatch, addr: string): Promise<{ id: string, created_at: number } | null> {
  const v = await b.get(K.headKey(addr))
  return v === null ? null : headOf(v)
}

function headValue (e: NostrEvent): Buffer {
  const v = Buffer.allocUnsafe(36)
  keysOf(e).id.copy(v, 0)
  v.writeUInt32BE(Math.min(e.created_at, K.MAX_TS), 32)
  return v
}

/**
 * The index's state machine. Pure function of the index and the event, so any order of
 * arrival converges: newest replaceable wins, deletions are remembered before their targets
 * arrive, expired events are never indexed. `counter` tracks stored events.
 */
export class Indexer {
  count = 0

  /** Reads, in one batch, every key that precheck()/index() will look at for these events. */
  async prefetch (b: IndexBatch, events: readonly NostrEvent[]): Promise<void> {
    const keys: Buffer[] = []
    const names: string[] = []
    const add = (k: Buffer, name = k.toString('latin1')): void => { keys.push(k); names.push(name) }
    for (const e of events) {
      const k = keysOf(e)
      add(k.event, k.eventName)
      add(k.deletedId, k.deletedIdName)
      const addr = replaceKey(e)
      if (addr !== null) { add(K.deletedAddrKey(addr)); add(K.headKey(addr)) }
      if (e.kind === 5) {
        for (const t of e.tags) if (t[0] === 'e' && t[1] !== undefined && /^[0-9a-f]{64}$/.test(t[1])) add(K.eventKey(K.hex(t[1])))
      }
    }
    await b.prefetch(keys, names)
  }

  /**
   * precheck() from what the batch already holds in memory (prefetch() reads all of it), without
   * a promise per event; undefined when a key it needs was not read ahead.
   */
  precheckKnown (b: IndexBatch, e: NostrEvent, now: number): IndexOutcome | undefined {
    const k = keysOf(e)
    const stored = b.peek(k.event, k.eventName)
    if (stored === undefined) return undefined
    if (stored !== null) return 'duplicate'
    const exp = expiration(e)
    if (exp !== null && exp <= now) return 'expired'
    const deleted = b.peek(k.deletedId, k.deletedIdName)
    if (deleted === undefined) return undefined
    if (deleted !== null) return 'deleted'
    const addr = replaceKey(e)
    if (addr !== null) {
      const del = b.peek(K.deletedAddrKey(addr))
      const head = b.peek(K.headKey(addr))
      if (del === undefined || head === undefined) return undefined
      if (del !== null && del.readUInt32BE(0) >= e.created_at) return 'deleted'
      if (head !== null && head.subarray(0, 32).toString('hex') !== e.id && !newerThan(e, headOf(head))) return 'replaced'
    }
    return 'stored'
  }

  /** What indexing `e` would do, without writing (used to answer a client before appending). */
  async precheck (b: IndexBatch, e: NostrEvent, now: number): Promise<IndexOutcome> {
    const known = this.precheckKnown(b, e, now)
    if (known !== undefined) return known
    await this.prefetch(b, [e])
    const read = this.precheckKnown(b, e, now)
    if (read === undefined) throw new Error('index precheck: a key read ahead is missing from the batch')
    return read
  }

  /**
   * index() without a promise, for the common case: an event that replaces nothing and deletes
   * nothing, whose keys the batch holds in memory. undefined: use index().
   */
  indexKnown (b: IndexBatch, e: NostrEvent, json: string, loc: Location, now: number): IndexOutcome | undefined {
    if (e.kind === 5 || replaceKey(e) !== null) return undefined
    const outcome = this.precheckKnown(b, e, now)
    if (outcome !== 'stored') return outcome
    this.write(b, e, json, loc)
    return 'stored'
  }

  async index (b: IndexBatch, e: NostrEvent, json: string, loc: Location, now: number): Promise<IndexOutcome> {
    const outcome = await this.precheck(b, e, now)
    if (outcome !== 'stored') return outcome
    const addr = replaceKey(e)
    if (addr !== null) {
      const head = await readHead(b, addr)
      if (head !== null) await this.remove(b, head.id)
      b.put(K.headKey(addr), headValue(e))
    }
    this.write(b, e, json, loc)
    if (e.kind === 5) await this.applyDeletion(b, e)
    return 'stored'
  }

  private write (b: IndexBatch, e: NostrEvent, json: string, loc: Location): void {
    const k = keysOf(e)
    b.put(k.event, encodeStored(loc, json), k.eventName)
    for (const key of secondaryKeys(e)) b.putBlind(key, EMPTY)
    this.count++
  }

  /** NIP-09: only the author's own events are removed; a deletion cannot delete a deletion. */
  private async applyDeletion (b: IndexBatch, del: NostrEvent): Promise<void> {
    const pk = K.hex(del.pubkey)
    for (const t of del.tags) {
      const v = t[1]
      if (v === undefined) continue
      if (t[0] === 'e' && /^[0-9a-f]{64}$/.test(v)) {
        const id = K.hex(v)
        b.put(K.deletedIdKey(id, pk), EMPTY)
        const stored = await b.get(K.eventKey(id))
        if (stored === null) continue
        const target = decodeStored(stored).event
        if (target.pubkey === del.pubkey && target.kind !== 5) await this.remove(b, target.id)
      } else if (t[0] === 'a') {
        const [kind, author, ...rest] = v.split(':')
        if (author !== del.pubkey || kind === undefined || !/^\d+$/.test(kind)) continue
        const addr = `${Number(kind)}:${author}:${rest.join(':')}`
        const dk = K.deletedAddrKey(addr)
        const prev = await b.get(dk)
        if (prev === null || prev.readUInt32BE(0) < del.created_at) {
          const v4 = Buffer.allocUnsafe(4)
          v4.writeUInt32BE(Math.min(del.created_at, K.MAX_TS))
          b.put(dk, v4)
        }
        const head = await readHead(b, addr)
        if (head !== null && head.created_at <= del.created_at) await this.remove(b, head.id)
      }
    }
  }

  /** Removes an event from every index (it stays in its log). */
  async remove (b: IndexBatch, idHex: string): Promise<boolean> {
    const ek = K.eventKey(K.hex(idHex))
    const stored = await b.get(ek)
    if (stored === null) return false
    const e = decodeStored(stored).event
    b.del(ek)
    for (const k of secondaryKeys(e)) b.delBlind(k)
    const addr = replaceKey(e)
    if (addr !== null) {
      const head = await readHead(b, addr)
      if (head !== null && head.id === e.id) b.del(K.headKey(addr))
    }
    this.count--
    return true
  }
}
