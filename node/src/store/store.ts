import { promises as fs } from 'node:fs'
import path from 'node:path'
import Corestore from 'corestore'
import CorestoreStorage from 'hypercore-storage'
import type Hypercore from 'hypercore'
import type { Logger } from 'pino'
import type { Limits, StoreOptions } from '../config/types.js'
import type { EventSource, Filter, NostrEvent } from '../events/types.js'
import { isEphemeral } from '../events/event.js'
import type { PriorityRun } from '../events/priority.js'
import { byPriority } from './block-groups.js'
import { VerifyBatcher } from './verify-batcher.js'
import { validateEvent } from '../events/validate.js'
import { filterError, normalizeFilter } from '../events/filter.js'
import { loadVerifier, type SignatureVerifier } from '../events/verify.js'
import { VerifyPool } from '../events/verify-pool.js'
import type { EventStore, IngestResult } from './types.js'
import { IndexDb, type IndexBatch } from './index-db.js'
import { Indexer, type IndexOutcome } from './indexer.js'
import { NodeLog } from './node-log.js'
import { encodeBlock } from './block-codec.js'
import { newestFirst, queryFilter } from './query.js'
import { LogIndexer } from './log-indexer.js'
import { ReplicatedIndexing, type CatchUpOptions } from './replicated.js'
import { acquireLock, type DirLock } from './lock.js'
import * as K from './keys.js'
import { isNoSpace } from '../system/disk-space.js'

/** What the store needs of the free-space watcher (node/src/system/disk-space.ts). */
export interface DiskGuard {
  /** Below the reserve, or a write ran out of space: take nothing new in. */
  readonly full: boolean
  /** Bytes just written (the watcher reads free space again after enough of them). */
  wrote: (bytes: number) => void
  /** A write failed with ENOSPC. */
  writeFailed: (err: unknown) => void
}

export interface StoreOpenOptions {
  dir: string
  limits: Limits
  store: StoreOptions
  log: Logger
  /** The node's clock (seconds; node/src/system/clock.ts), or one injected by tests; default the system clock. */
  now?: () => number
  /** Delete the index and rebuild it from the logs (`outpost reindex`). */
  rebuildIndex?: boolean
  /** A relay: no log of its own; ingest() refuses every event (replicated logs still index). */
  readOnly?: boolean
  /** Free-space watcher: while it says full, clients' events are refused before anything is written. */
  disk?: DiskGuard
  /**
   * Replicated catch-up checks the next blocks (decode, limits, signatures on the worker pool)
   * while it indexes the current ones (default true); false: one step after the other (benches).
   */
  readAhead?: boolean
}

interface Pending { event: NostrEvent, json: string, resolve: (r: IngestResult) => void }

const RESULTS: Record<IndexOutcome, IngestResult> = {
  stored: { ok: true, message: '', accepted: true },
  duplicate: { ok: true, message: 'duplicate: already have this event', accepted: false },
  deleted: { ok: false, message: 'blocked: this event was deleted by its author', accepted: false },
  replaced: { ok: false, message: 'duplicate: a newer version of this replaceable event exists', accepted: false },
  expired: { ok: false, message: 'invalid: event has expired (NIP-40)', accepted: false }
}

const ERROR_RESULT: IngestResult = { ok: false, message: 'error: could not store the event, try again', accepted: false }
export const DISK_FULL_RESULT: IngestResult = { ok: false, message: 'error: this node\'s storage is full; the event was not stored, try again later', accepted: false }

const EXPIRY_SWEEP_MS = 60_000
/** Blocks appended but not yet fsynced + indexed + answered, before appending waits. */
const MAX_UNSETTLED_BLOCKS = 4

/**
 * The node's event store: the node log (hypercore, durable group commit) plus the derived
 * index (RocksDB). One ingest path: validate -> verify -> append + fsync -> index -> fan-out.
 */
export class Store implements EventStore {
  readonly corestore: Corestore
  readonly nodeLog: NodeLog
  readonly verifier: SignatureVerifier
  readonly pool: VerifyPool
  private readonly idx: IndexDb
  private readonly indexer = new Indexer()
  private readonly logIndexer: LogIndexer
  private readonly opts: StoreOpenOptions
  private readonly log: Logger
  private readonly lock: DirLock
  private readonly now: () => number
  private readonly listeners = new Set<(e: NostrEvent) => void>()
  private readonly queue: Pending[] = []
  private readonly pendingIds = new Set<string>()
  private scheduled = false
  private committing: Promise<void> | null = null
  private readonly unsettled: Array<Promise<void>> = []
  private readonly verifying: VerifyBatcher
  private writeLock: Promise<unknown> = Promise.resolve()
  private sweepTimer: NodeJS.Timeout | null = null
  private closing: Promise<void> | null = null
  private readonly replicated: ReplicatedIndexing

  private constructor (opts: StoreOpenOptions, parts: { idx: IndexDb, corestore: Corestore, storage: CorestoreStorage, lock: DirLock }) {
    this.opts = opts
    this.log = opts.log
    this.now = opts.now ?? (() => Math.floor(Date.now() / 1000))
    this.idx = parts.idx
    this.corestore = parts.corestore
    this.lock = parts.lock
    this.verifier = loadVerifier({ log: this.log })
    this.pool = new VerifyPool({ log: this.log })
    this.nodeLog = new NodeLog({ corestore: parts.corestore, rocks: parts.storage.rocks, dataDir: opts.dir, log: this.log, writer: opts.readOnly !== true })
    this.logIndexer = new LogIndexer({ idx: this.idx, indexer: this.indexer, pool: this.pool, verifier: this.verifier, limits: opts.limits, log: this.log, now: this.now })
    this.replicated = new ReplicatedIndexing({
      logIndexer: this.logIndexer,
      log: this.log,
      readAhead: opts.readAhead !== false,
      closed: () => this.closing !== null,
      locked: async fn => await this.noting(this.withWriteLock(fn)),
      emit: e => { this.emit(e) }
    })
    this.verifying = new VerifyBatcher({ verifier: this.verifier, pool: this.pool, log: this.log, threshold: opts.store.verifyWorkerThreshold, busy: () => this.committing !== null || this.unsettled.length > 0 })
  }

  static async open (opts: StoreOpenOptions): Promise<Store> {
    await fs.mkdir(opts.dir, { recursive: true })
    const lock = await acquireLock(opts.dir)
    let idx: IndexDb | null = null
    let corestore: Corestore | null = null
    try {
      if (opts.rebuildIndex === true) await fs.rm(path.join(opts.dir, 'index'), { recursive: true, force: true })
      idx = new IndexDb(path.join(opts.dir, 'index'), { writeBufferMiB: opts.store.writeBufferMiB })
      await idx.ready()
      const storage = new CorestoreStorage(path.join(opts.dir, 'cores'), {
        writeBufferSize: opts.store.writeBufferMiB * 1024 * 1024,
        maxBackgroundJobs: 2
      })
      corestore = new Corestore(storage)
      await corestore.ready()
      const store = new Store(opts, { idx, corestore, storage, lock })
      await store.start()
      return store
    } catch (err) {
      await corestore?.close().catch(() => {})
      await idx?.close().catch(() => {})
      await lock.release()
      throw err
    }
  }

  private async start (): Promise<void> {
    await this.nodeLog.open()
    const t0 = Date.now()
    this.indexer.count = await this.logIndexer.loadCount()
    let caughtUp = 0
    for (const core of this.nodeLog.logs) caughtUp += await this.withWriteLock(() => this.logIndexer.catchUp(core, { trusted: true }))
    if (caughtUp > 0) this.log.info({ events: caughtUp, ms: Date.now() - t0 }, 'index caught up with the logs')
    this.sweepTimer = setInterval(() => { this.sweepExpired().catch(err => this.log.error({ err }, 'expiry sweep failed')) }, EXPIRY_SWEEP_MS)
    this.sweepTimer.unref()
    this.log.info({ events: this.indexer.count, log: this.nodeLog.currentOrNull?.key.toString('hex') ?? null, epoch: this.nodeLog.epoch, verifier: this.verifier.backend }, 'store open')
  }

  count (): number { return this.indexer.count }

  onEvent (listener: (event: NostrEvent) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  ingest (v: unknown, _source: EventSource): Promise<IngestResult> {
    if (this.closing !== null) return Promise.resolve({ ok: false, message: 'error: node is shutting down', accepted: false })
    if (this.opts.readOnly === true) return Promise.resolve({ ok: false, message: 'restricted: this node is a read-only relay of its community; post on one of its hotspots', accepted: false })
    let checked: ReturnType<typeof validateEvent>
    try {
      checked = validateEvent(v, this.opts.limits, this.now())
    } catch (err) {
      return Promise.reject(err) // as from an async function: never a synchronous throw
    }
    if (!checked.ok) return Promise.resolve({ ok: false, message: checked.message, accepted: false })
    const { event, json } = checked
    // ephemeral events are fanned out, never written: they still flow on a full disk
    if (this.diskFull && !isEphemeral(event.kind)) return Promise.resolve(DISK_FULL_RESULT)
    // one promise per event: the signature check's verdict continues the event in place
    return new Promise<IngestResult>(resolve => {
      this.verifying.verify(event, ok => { this.afterVerify(ok, event, json, resolve) })
    })
  }

  private afterVerify (ok: boolean, event: NostrEvent, json: string, resolve: (r: IngestResult) => void): void {
    if (!ok) return resolve({ ok: false, message: 'invalid: bad signature', accepted: false })
    if (isEphemeral(event.kind)) {
      this.emit(event)
      return resolve({ ok: true, message: '', accepted: true })
    }
    if (this.pendingIds.has(event.id)) return resolve(RESULTS.duplicate)
    this.pendingIds.add(event.id)
    this.queue.push({ event, json, resolve })
    this.schedule()
  }

  private schedule (): void {
    if (this.scheduled || this.committing !== null) return
    this.scheduled = true
    const run = (): void => {
      this.scheduled = false
      this.committing = this.drain().finally(() => {
        this.committing = null
        if (this.queue.length > 0) this.schedule()
      })
    }
    if (this.opts.store.commitWindowMs > 0) setTimeout(run, this.opts.store.commitWindowMs)
    else setImmediate(run)
  }

  /**
   * Group commit: everything queued while the previous block was being appended goes in the
   * next block. A block's fsync, indexing and OKs run behind the appends (in block order), so
   * block N+1 is checked and appended while block N is made durable and indexed; at most
   * MAX_UNSETTLED_BLOCKS are in that state.
   */
  private async drain (): Promise<void> {
    while (this.queue.length > 0) {
      const batch: Pending[] = []
      let bytes = 0
      while (this.queue.length > 0 && batch.length < this.opts.store.commitMaxEvents) {
        const next = this.queue[0] as Pending
        if (batch.length > 0 && bytes + next.json.length > this.opts.store.commitMaxBytes) break
        bytes += next.json.length + 1
        batch.push(next)
        this.queue.shift()
      }
      // one block per priority class (messages, text, bulky), so a peer on a thin uplink can
      // fetch blocks by class; a batch of one class (the common case) stays one block
      for (const group of byPriority(batch)) {
        await this.commit(group)
        while (this.unsettled.length >= MAX_UNSETTLED_BLOCKS) await this.unsettled[0]
      }
    }
  }

  private settle (p: Pending, r: IngestResult): void {
    this.pendingIds.delete(p.event.id)
    p.resolve(r)
  }

  /** Checks and appends one block, then queues its fsync -> index -> OK step (not awaited). */
  private async commit (all: Pending[]): Promise<void> {
    let batch: Pending[]
    let appended: { core: Hypercore, seq: number }
    let view: IndexBatch
    if (this.diskFull) {
      // queued before the disk filled up: nothing of this batch is written
      for (const p of all) this.settle(p, DISK_FULL_RESULT)
      return
    }
    try {
      // answer duplicates, deleted, replaced and expired events without appending them
      const now = this.now()
      view = this.idx.batch()
      await this.indexer.prefetch(view, all.map(p => p.event))
      batch = []
      for (const p of all) {
        const pre = this.indexer.precheckKnown(view, p.event, now) ?? await this.indexer.precheck(view, p.event, now)
        if (pre === 'stored') batch.push(p)
        else this.settle(p, RESULTS[pre])
      }
      if (batch.length === 0) return
      const block = encodeBlock(batch.map(p => p.json))
      appended = await this.nodeLog.appendUnsynced(block)
      this.opts.disk?.wrote(block.length)
    } catch (err) {
      this.log.error({ err, events: all.length }, 'append to the node log failed')
      const result = this.failure(err)
      for (const p of all) if (this.pendingIds.has(p.event.id)) this.settle(p, result)
      return
    }
    // the fsync starts now and covers this block; the next block is appended meanwhile
    const synced = this.nodeLog.sync()
    synced.catch(() => {}) // handled below, in block order
    const step = this.withWriteLock(async () => {
      try {
        await synced
      } catch (err) {
        // not durable: no OK true. The block is in the log; the next block's indexing finds
        // the index behind and catches up from the log (a retry then reads "duplicate:").
        this.log.error({ err, events: batch.length }, 'fsync of the node log failed')
        const result = this.failure(err)
        for (const p of batch) this.settle(p, result)
        return
      }
      // durable from here on: every OK below is true to its word
      const items = batch.map(p => ({ event: p.event, json: p.json }))
      let outcomes: IndexOutcome[]
      try {
        outcomes = await this.logIndexer.indexBlock(appended.core, appended.seq, items, view)
      } catch (err) {
        this.log.error({ err }, 'indexing a committed block failed; catching up from the log')
        this.failure(err)
        await this.logIndexer.catchUp(appended.core, { trusted: true }).catch(e => this.log.error({ err: e }, 'catch-up failed'))
        outcomes = batch.map(() => 'stored')
      }
      batch.forEach((p, i) => {
        const outcome = outcomes[i] ?? 'stored'
        this.settle(p, RESULTS[outcome])
        if (outcome === 'stored') this.emit(p.event)
      })
    })
    const settled = step.catch(err => { this.log.error({ err }, 'settling a committed block failed') })
    this.unsettled.push(settled)
    void settled.then(() => { this.unsettled.splice(this.unsettled.indexOf(settled), 1) })
  }

  private get diskFull (): boolean { return this.opts.disk?.full === true }

  /** The answer for a write that failed; tells the free-space watcher when it ran out of space. */
  private failure (err: unknown): IngestResult {
    if (!isNoSpace(err)) return ERROR_RESULT
    this.opts.disk?.writeFailed(err)
    return DISK_FULL_RESULT
  }

  /** Runs a write of the replication path, telling the free-space watcher when it ran out of space. */
  private async noting<T> (p: Promise<T>): Promise<T> {
    try {
      return await p
    } catch (err) {
      this.failure(err)
      throw err
    }
  }

  private emit (e: NostrEvent): void {
    for (const l of this.listeners) {
      try { l(e) } catch (err) { this.log.error({ err }, 'event listener failed') }
    }
  }

  private async withWriteLock<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.writeLock.then(fn, fn)
    this.writeLock = run.catch(() => {})
    return await run
  }

  async query (filters: Filter[]): Promise<NostrEvent[]> {
    const now = this.now()
    const seen = new Set<string>()
    const out: NostrEvent[] = []
    for (const raw of filters) {
      const err = filterError(raw)
      if (err !== null) throw Object.assign(new Error(`invalid: ${err}`), { code: 'ERR_FILTER' })
      const f = normalizeFilter(raw, this.opts.limits)
      for (const e of await queryFilter(this.idx, f, now)) {
        if (seen.has(e.id)) continue
        seen.add(e.id)
        out.push(e)
      }
    }
    if (filters.length > 1) out.sort(newestFirst)
    return out
  }

  /**
   * Sync hook: indexes what a replicated (untrusted) log holds contiguously past its
   * checkpoint, with the same checks as a client's events, and fans out what was stored.
   */
  async indexReplicatedLog (core: Hypercore, opts: CatchUpOptions = {}): Promise<number> {
    return await this.replicated.indexLog(core, opts)
  }

  /**
   * Sync hook: indexes blocks of a replicated log that arrived ahead of the contiguous part
   * (fetched by priority), checked like a client's events; returns the blocks indexed.
   */
  async indexReplicatedBlocks (core: Hypercore, seqs: number[]): Promise<number[]> {
    return await this.replicated.indexBlocks(core, seqs)
  }

  /** Sync hook: the priority classes of a log's blocks [from, to) that this index knows. */
  async priorityRuns (logKey: Buffer, from: number, to: number, maxRuns: number): Promise<{ runs: PriorityRun[], end: number }> {
    return await this.logIndexer.priorityRuns(logKey, from, to, maxRuns)
  }

  /** Sync hook: events skipped as invalid in a log (hex key) since start. */
  invalidEvents (logHex: string): number {
    return this.logIndexer.invalid.get(logHex) ?? 0
  }

  /** The next block of a log to index (its checkpoint). */
  async indexedLength (core: Hypercore): Promise<number> {
    return await this.logIndexer.indexedLength(core)
  }

  /** Replicated events indexed although dated beyond the future limit of our clock, since start. */
  get eventsAhead (): number {
    return this.logIndexer.eventsAhead
  }

  /** NIP-40: drop expired events from the index (they stay in the logs). */
  async sweepExpired (): Promise<number> {
    return await this.withWriteLock(async () => {
      const now = this.now()
      const b = this.idx.batch()
      let n = 0
      const it = this.idx.iterator({ gte: Buffer.from([K.P.expires]), lte: K.expiresKey(now, Buffer.alloc(32, 0xff)), values: false })
      try {
        for await (const { key } of it) {
          if (await this.indexer.remove(b, K.splitTimeKey(key).id.toString('hex'))) n++
          else b.del(key)
        }
      } finally {
        it.destroy()
      }
      if (n > 0) b.put(K.metaKey('count'), K.u64(this.indexer.count))
      await b.flush()
      return n
    })
  }

  status (): Record<string, unknown> {
    const cur = this.nodeLog.currentOrNull
    return {
      events: this.indexer.count,
      log: cur === null ? null : { key: cur.key.toString('hex'), length: cur.length, epoch: this.nodeLog.epoch, rotations: this.nodeLog.rotations },
      verifier: this.verifier.backend
    }
  }

  async close (): Promise<void> {
    if (this.closing === null) this.closing = this.doClose()
    return await this.closing
  }

  private async doClose (): Promise<void> {
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer)
    while (this.committing !== null || this.queue.length > 0 || this.scheduled || !this.verifying.idle) {
      if (this.committing !== null) await this.committing
      else await new Promise(resolve => setImmediate(resolve))
    }
    await Promise.all(this.unsettled)
    await this.writeLock
    // a read-ahead still checking blocks: let it finish its step (it writes nothing)
    await this.replicated.close()
    await this.pool.close().catch(err => this.log.warn({ err }, 'closing the verify pool failed'))
    await this.nodeLog.close()
    await this.corestore.close()
    await this.idx.close()
    await this.lock.release()
  }
}
