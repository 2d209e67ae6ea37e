import type Hypercore from 'hypercore'
import type { Logger } from 'pino'
import type { Limits } from '../config/types.js'
import type { NostrEvent } from '../events/types.js'
import { validateEvent } from '../events/validate.js'
import { shapeError } from '../events/event.js'
import type { SignatureVerifier } from '../events/verify.js'
import type { VerifyPool } from '../events/verify-pool.js'
import type { IndexDb, IndexBatch } from './index-db.js'
import type { Indexer, IndexOutcome } from './indexer.js'
import { decodeBlock } from './block-codec.js'
import * as K from './keys.js'
import { Priority, priorityOf, type PriorityRun } from '../events/priority.js'

type Decoded = Array<{ event: NostrEvent, json: string, seq: number, offset: number }>

/** Blocks decoded and checked, not yet indexed: what the index writes for them, and what was skipped. */
export interface Checked {
  /** The events that passed every check, in log order. */
  items: Decoded
  /** Each block's priority class (its `blockPriority` key). */
  classes: Array<{ seq: number, priority: Priority }>
  /** Lines skipped as invalid (not JSON, failed a check, bad signature). */
  bad: number
}

/** A block's class: its most urgent line's (a line that does not parse counts as bulky). */
function blockPriority (lines: ReturnType<typeof decodeBlock>): Priority {
  let p: Priority = Priority.Bulk
  for (const line of lines) {
    if ('error' in line) continue
    const kind = typeof line.value === 'object' && line.value !== null ? (line.value as { kind?: unknown }).kind : undefined
    const q = priorityOf(kind, line.json.length)
    if (q < p) p = q
  }
  return p
}

const FLUSH_EVERY_BLOCKS = 64

function indexAhead (core: Hypercore, next: number): Error {
  return Object.assign(new Error(`the index is ahead of log ${core.key.toString('hex')} (${next} > ${core.length} blocks): run \`outpost reindex\``), { code: 'ERR_INDEX_AHEAD' })
}

/**
 * Feeds log blocks into the index and keeps, in the same RocksDB batch, each log's
 * checkpoint (next block to index), so the index never claims more or less than it holds.
 */
export class LogIndexer {
  private readonly idx: IndexDb
  private readonly indexer: Indexer
  private readonly pool: VerifyPool
  private readonly verifier: SignatureVerifier
  private readonly limits: Limits
  private readonly log: Logger
  private readonly now: () => number
  private nextNum = -1
  /** Last checkpoint this indexer wrote per log (hex key): saves a read per block. */
  private readonly checkpoints = new Map<string, { next: number, num: number }>()
  /** Events skipped because they failed verification, per log (hex key). */
  readonly invalid = new Map<string, number>()
  /**
   * Replicated events indexed although dated beyond our future limit (created_at more than
   * limits.maxFutureSeconds past our clock), since this indexer started: usually our clock is
   * behind, and it is reported (/api/health clock.eventsAhead).
   */
  eventsAhead = 0

  constructor (opts: { idx: IndexDb, indexer: Indexer, pool: VerifyPool, verifier: SignatureVerifier, limits: Limits, log: Logger, now: () => number }) {
    this.idx = opts.idx
    this.indexer = opts.indexer
    this.pool = opts.pool
    this.verifier = opts.verifier
    this.limits = opts.limits
    this.log = opts.log
    this.now = opts.now
  }

  async loadCount (): Promise<number> {
    const v = await this.idx.get(K.metaKey('count'))
    return v === null ? 0 : Number(v.readBigUInt64BE(0))
  }

  private async checkpoint (b: IndexBatch, core: Hypercore): Promise<{ next: number, num: number }> {
    const known = this.checkpoints.get(core.key.toString('hex'))
    if (known !== undefined) return { ...known }
    const v = await b.get(K.checkpointKey(core.key))
    if (v !== null) return { next: v.readUInt32BE(0), num: v.readUInt32BE(4) }
    if (this.nextNum < 0) {
      const last = await this.idx.db.peek({ gte: Buffer.from([K.P.logNum]), lt: Buffer.from([K.P.logNum + 1]) }, { reverse: true })
      this.nextNum = last === null ? 0 : last.key.readUInt32BE(1) + 1
    }
    const num = this.nextNum++
    b.put(K.logNumKey(num), core.key)
    return { next: 0, num }
  }

  private setCheckpoint (b: IndexBatch, core: Hypercore, next: number, num: number): void {
    const v = Buffer.allocUnsafe(8)
    v.writeUInt32BE(next, 0)
    v.writeUInt32BE(num, 4)
    b.put(K.checkpointKey(core.key), v)
    b.put(K.metaKey('count'), K.u64(this.indexer.count))
  }

  /** Next block of `core` to index (its checkpoint). */
  async indexedLength (core: Hypercore): Promise<number> {
    const v = await this.idx.get(K.checkpointKey(core.key))
    return v === null ? 0 : v.readUInt32BE(0)
  }

  /** Where a catch-up of `core` starts (its checkpoint); throws when the index claims more than the log holds. */
  async resumeAt (core: Hypercore): Promise<number> {
    const next = await this.indexedLength(core)
    if (next > core.length) throw indexAhead(core, next)
    return next
  }

  /** Flushes a batch holding a checkpoint, and remembers the checkpoint once it is written. */
  private async flushCheckpoint (b: IndexBatch, core: Hypercore, next: number, num: number): Promise<void> {
    const hex = core.key.toString('hex')
    this.checkpoints.delete(hex)
    await b.flush()
    this.checkpoints.set(hex, { next, num })
  }

  /**
   * Indexes a block this node just appended (its events were already verified). `view` is a
   * batch that already read this block's keys (the store's precheck); it is brought up to date
   * and used as the write batch, so the keys are not read twice.
   */
  async indexBlock (core: Hypercore, seq: number, items: Array<{ event: NostrEvent, json: string }>, view?: IndexBatch): Promise<IndexOutcome[]> {
    let b: IndexBatch
    if (view !== undefined && view.size === 0) {
      view.refresh()
      b = view
    } else {
      b = this.idx.batch()
    }
    const cp = await this.checkpoint(b, core)
    if (cp.next !== seq) {
      // a previous block is missing from the index: take the whole tail from the log
      await this.catchUp(core, { trusted: true })
      return items.map(() => 'stored')
    }
    const now = this.now()
    const countBefore = this.indexer.count
    try {
      await this.indexer.prefetch(b, items.map(it => it.event))
      const out: IndexOutcome[] = []
      for (let i = 0; i < items.length; i++) {
        const it = items[i] as { event: NostrEvent, json: string }
        const loc = { log: cp.num, block: seq, offset: i }
        out.push(this.indexer.indexKnown(b, it.event, it.json, loc, now) ?? await this.indexer.index(b, it.event, it.json, loc, now))
      }
      let p: Priority = Priority.Bulk
      for (const it of items) { const q = priorityOf(it.event.kind, it.json.length); if (q < p) p = q }
      this.putPriority(b, cp.num, seq, p)
      this.setCheckpoint(b, core, seq + 1, cp.num)
      await this.flushCheckpoint(b, core, seq + 1, cp.num)
      return out
    } catch (err) {
      this.indexer.count = countBefore
      throw err
    }
  }

  /**
   * Indexes every block of `core` from its checkpoint up to what is held contiguously.
   * Untrusted logs (replicated from peers) are checked exactly like a client's events; an
   * invalid event is skipped and counted, and does not stop the rest. Returns events indexed.
   */
  async catchUp (core: Hypercore, opts: { trusted: boolean, onStored?: (e: NostrEvent) => void, maxBlocks?: number, skip?: (seq: number) => boolean }): Promise<number> {
    let b = this.idx.batch()
    const cp = await this.checkpoint(b, core)
    if (cp.next > core.length) throw indexAhead(core, cp.next)
    let seq = cp.next
    let stored = 0
    const countBefore = this.indexer.count
    const end = Math.min(core.contiguousLength, cp.next + (opts.maxBlocks ?? Infinity))
    try {
      while (seq < end) {
        const blocks: Array<{ seq: number, block: Buffer }> = []
        while (seq < end && blocks.length < FLUSH_EVERY_BLOCKS) {
          // already indexed out of order (indexBlocks): its keys are written, skip it
          if (opts.skip?.(seq) === true) { seq++; continue }
          const block = await core.get(seq, { wait: false })
          if (block === null) break
          blocks.push({ seq, block })
          seq++
        }
        if (blocks.length === 0 && seq < end) break
        const checked = await this.check(core, blocks, opts.trusted)
        stored += await this.commitChecked(b, core, cp.num, checked, seq, opts.trusted, opts.onStored)
        b = this.idx.batch()
      }
    } catch (err) {
      this.indexer.count = countBefore
      throw err
    }
    return stored
  }

  /**
   * Indexes blocks of a replicated log that a read-ahead (read-ahead.ts) decoded and checked
   * outside the write lock: [from, to) of the log, blocks skipped by the caller included. The
   * checkpoint moves to `to` in the same batch as the index keys. Returns the events newly
   * stored, or null (nothing written) when the blocks do not continue the checkpoint.
   */
  async indexChecked (core: Hypercore, from: number, to: number, checked: Checked, opts: { onStored?: (e: NostrEvent) => void } = {}): Promise<number | null> {
    const b = this.idx.batch()
    const cp = await this.checkpoint(b, core)
    if (cp.next !== from || to > core.length) return null
    return await this.commitChecked(b, core, cp.num, checked, to, false, opts.onStored)
  }

  /**
   * Writes checked blocks into `b` with the checkpoint at `next` and flushes it (the in-memory
   * event count is put back if that fails), then counts what was skipped and fans out what was
   * stored. Returns the number of events newly stored.
   */
  private async commitChecked (b: IndexBatch, core: Hypercore, num: number, checked: Checked, next: number, trusted: boolean, onStored?: (e: NostrEvent) => void): Promise<number> {
    const countBefore = this.indexer.count
    const now = this.now()
    let fresh: NostrEvent[]
    try {
      fresh = await this.indexItems(b, num, checked, now)
      this.setCheckpoint(b, core, next, num)
      await this.flushCheckpoint(b, core, next, num)
    } catch (err) {
      this.indexer.count = countBefore
      throw err
    }
    this.account(core, checked, trusted, now)
    if (onStored !== undefined) for (const e of fresh) onStored(e)
    return fresh.length
  }

  /**
   * Indexes checked events into `b` and records each block's priority class; returns the
   * events newly stored. Does not move the checkpoint.
   */
  private async indexItems (b: IndexBatch, num: number, checked: Checked, now: number): Promise<NostrEvent[]> {
    for (const { seq, priority } of checked.classes) this.putPriority(b, num, seq, priority)
    const items = checked.items
    await this.indexer.prefetch(b, items.map(it => it.event))
    const fresh: NostrEvent[] = []
    for (const it of items) {
      const loc = { log: num, block: it.seq, offset: it.offset }
      if ((this.indexer.indexKnown(b, it.event, it.json, loc, now) ?? await this.indexer.index(b, it.event, it.json, loc, now)) === 'stored') fresh.push(it.event)
    }
    return fresh
  }

  private putPriority (b: IndexBatch, num: number, seq: number, p: Priority): void {
    b.putBlind(K.blockPriorityKey(num, seq), Buffer.from([p]))
  }

  /**
   * Indexes blocks of a replicated log that arrived ahead of its checkpoint (fetched by
   * priority: a message behind bulky data). Blocks below the checkpoint or not here are left
   * out. The checkpoint stays; catchUp() later skips what the caller says was done here
   * (indexing twice would only cost time: a second pass finds every event a duplicate).
   * Returns the blocks indexed.
   */
  async indexBlocks (core: Hypercore, seqs: number[], opts: { onStored?: (e: NostrEvent) => void } = {}): Promise<number[]> {
    const b = this.idx.batch()
    const cp = await this.checkpoint(b, core)
    const blocks: Array<{ seq: number, block: Buffer }> = []
    for (const seq of seqs) {
      if (seq < cp.next || seq >= core.length || !await core.has(seq)) continue
      const block = await core.get(seq, { wait: false })
      if (block !== null) blocks.push({ seq, block })
    }
    if (blocks.length === 0) return []
    // the checkpoint stays where it is
    await this.commitChecked(b, core, cp.num, await this.check(core, blocks, false), cp.next, false, opts.onStored)
    return blocks.map(x => x.seq)
  }

  /**
   * The priority classes this index knows for blocks [from, to) of a log, as runs (blocks not
   * indexed here are left out), at most `maxRuns` of them. `end` is where the answer stops.
   */
  async priorityRuns (logKey: Buffer, from: number, to: number, maxRuns: number): Promise<{ runs: PriorityRun[], end: number }> {
    const v = await this.idx.get(K.checkpointKey(logKey))
    if (v === null || to <= from) return { runs: [], end: from }
    const num = v.readUInt32BE(4)
    const runs: PriorityRun[] = []
    let end = to
    const it = this.idx.iterator({ gte: K.blockPriorityKey(num, from), lt: K.blockPriorityKey(num, to) })
    try {
      for await (const { key, value } of it) {
        const seq = key.readUInt32BE(5)
        const p = (value[0] ?? Priority.Bulk) as Priority
        const last = runs[runs.length - 1]
        if (last !== undefined && last.priority === p && last.start + last.length === seq) { last.length++; continue }
        if (runs.length === maxRuns) { end = seq; break }
        runs.push({ start: seq, length: 1, priority: p })
      }
    } finally {
      it.destroy()
    }
    return { runs, end }
  }

  /**
   * Decodes blocks and checks their events (unless trusted: our own log, shape only); a pure
   * step (nothing written, nothing counted), so it may run ahead of the indexing, outside the
   * write lock. Signatures of a large batch are checked on the worker pool.
   */
  async check (core: Hypercore, blocks: Array<{ seq: number, block: Buffer }>, trusted: boolean): Promise<Checked> {
    const out: Decoded = []
    const classes: Checked['classes'] = []
    let bad = 0
    for (const { seq, block } of blocks) {
      const lines = decodeBlock(block)
      classes.push({ seq, priority: blockPriority(lines) })
      lines.forEach((line, offset) => {
        if ('error' in line) { bad++; return }
        // limits are not re-applied to our own log: they may have changed since it was written.
        // A replicated event gets every check but the future bound: its origin node applied that
        // under its own clock, and ours may be hours behind (a Pi without a real-time clock).
        // Skipping it would be final (the checkpoint moves past it), so it is indexed and counted;
        // a bogus date from a hostile origin is a moderation matter, not a reason to lose data.
        const v = trusted
          ? (shapeError(line.value) === null ? { ok: true as const, event: line.value as NostrEvent, json: line.json } : { ok: false as const })
          : validateEvent(line.value, this.limits, null)
        if (!v.ok) { bad++; return }
        out.push({ event: v.event, json: v.json, seq, offset })
      })
    }
    if (trusted || out.length === 0) return { items: out, classes, bad }
    const ok = out.length >= 64 ? await this.pool.verifyMany(out.map(o => o.event)) : out.map(o => this.verifier.verify(o.event.id, o.event.pubkey, o.event.sig))
    const items = out.filter((_, i) => ok[i] === true)
    return { items, classes, bad: bad + out.length - items.length }
  }

  /** Counts (once, when their blocks are indexed) the invalid lines skipped and the events dated ahead of our clock. */
  private account (core: Hypercore, checked: Checked, trusted: boolean, now: number): void {
    const logHex = core.key.toString('hex')
    let ahead = 0
    if (!trusted) for (const o of checked.items) if (o.event.created_at > now + this.limits.maxFutureSeconds) ahead++
    if (ahead > 0) {
      this.eventsAhead += ahead
      this.log.info({ log: logHex, events: ahead }, 'indexed replicated events dated ahead of this node\'s clock')
    }
    if (checked.bad > 0) {
      this.invalid.set(logHex, (this.invalid.get(logHex) ?? 0) + checked.bad)
      this.log.warn({ log: logHex, invalid: checked.bad }, 'skipped invalid events in a log')
    }
  }
}
