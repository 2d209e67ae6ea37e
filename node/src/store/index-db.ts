import RocksDB from 'rocksdb-native'

/** Writes of one batch flush, kept for a while so a view read earlier can be brought up to date. */
interface FlushRecord { seq: number, writes: Map<string, Pending> }

interface Pending { key: Buffer, value: Buffer | null }

/** How many recent flushes are remembered for IndexBatch.refresh(). */
const RECENT_FLUSHES = 16

/** The query index: an ordered KV store in its own RocksDB directory, beside the Corestore. */
export class IndexDb {
  readonly rocks: RocksDB
  readonly db: RocksDB
  private flushSeq = 0
  private readonly inFlight = new Set<number>()
  private readonly recent: FlushRecord[] = []

  constructor (dir: string, opts: { writeBufferMiB: number }) {
    const cf = new RocksDB.ColumnFamily('index', {
      writeBufferSize: opts.writeBufferMiB * 1024 * 1024,
      maxWriteBufferNumber: 2,
      enableBlobFiles: false
    })
    this.rocks = new RocksDB(dir, { columnFamilies: [cf], maxBackgroundJobs: 2 })
    this.db = this.rocks.columnFamily('index')
  }

  async ready (): Promise<void> { await this.db.ready() }

  async close (): Promise<void> { await this.rocks.close() }

  get (key: Buffer): Promise<Buffer | null> { return this.db.get(key) }

  async getMany (keys: Buffer[]): Promise<Array<Buffer | null>> {
    if (keys.length === 0) return []
    const r = this.db.read({ capacity: keys.length })
    try {
      const ps = keys.map(k => r.get(k))
      r.tryFlush()
      return await Promise.all(ps)
    } finally {
      r.destroy()
    }
  }

  iterator (range: RocksDB.Range): RocksDB.Iterator {
    return this.db.iterator(range)
  }

  /** A write batch whose reads see its own pending writes (needed when one batch holds an event and its deletion). */
  batch (): IndexBatch { return new IndexBatch(this, this.settledSeq()) }

  /** Every flush numbered <= this has finished: a read issued now sees all of them. */
  private settledSeq (): number {
    let s = this.flushSeq
    for (const q of this.inFlight) s = Math.min(s, q - 1)
    return s
  }

  /** @internal IndexBatch.flush() */
  beginFlush (writes: Map<string, Pending>): number {
    const seq = ++this.flushSeq
    this.inFlight.add(seq)
    this.recent.push({ seq, writes })
    if (this.recent.length > RECENT_FLUSHES) this.recent.shift()
    return seq
  }

  /** @internal */
  endFlush (seq: number): void { this.inFlight.delete(seq) }

  /** @internal A flush that failed wrote nothing. */
  forgetFlush (seq: number): void {
    const i = this.recent.findIndex(r => r.seq === seq)
    if (i >= 0) this.recent.splice(i, 1)
  }

  /** @internal The writes of flushes after `seq`, oldest first; null when some are forgotten. */
  writesAfter (seq: number): Array<Map<string, Pending>> | null {
    if (seq >= this.flushSeq) return []
    const first = this.recent[0]
    if (first === undefined || first.seq > seq + 1) return null
    return this.recent.filter(r => r.seq > seq).map(r => r.writes)
  }
}

export class IndexBatch {
  private readonly idx: IndexDb
  private pending = new Map<string, Pending>()
  /** Writes of keys that are never read back (secondary index keys), applied in order after `pending`. */
  private blind: Pending[] = []
  // values read ahead in one read batch: one RocksDB get costs ~5x a batched one
  private readonly cache = new Map<string, Buffer | null>()
  /** Flushes up to this one are visible to this batch's reads. */
  private seen: number

  constructor (idx: IndexDb, seen: number) {
    this.idx = idx
    this.seen = seen
  }

  get size (): number { return this.pending.size + this.blind.length }

  /**
   * Brings values read ahead up to date with the flushes made since this batch was created
   * (a batch prefetched before the previous block was indexed can then index the next one
   * without reading again). Pending writes are kept.
   */
  refresh (): void {
    const later = this.idx.writesAfter(this.seen)
    if (later === null) {
      this.cache.clear()
    } else {
      for (const writes of later) {
        for (const [k, w] of writes) if (this.cache.has(k)) this.cache.set(k, w.value)
      }
    }
    this.seen = Number.MAX_SAFE_INTEGER // refreshed under the caller's write lock: nothing else writes until it flushes
  }

  /**
   * Reads these keys in one RocksDB read batch so later get()s are served from memory.
   * `names` (optional) are the keys' latin1 strings, when the caller has them already.
   */
  async prefetch (keys: Buffer[], names?: string[]): Promise<void> {
    const todo: Buffer[] = []
    const todoNames: string[] = []
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as Buffer
      const s = names?.[i] ?? k.toString('latin1')
      if (this.pending.has(s) || this.cache.has(s)) continue
      todo.push(k)
      todoNames.push(s)
    }
    if (todo.length === 0) return
    const values = await this.idx.getMany(todo)
    todoNames.forEach((s, i) => { if (!this.cache.has(s)) this.cache.set(s, values[i] ?? null) })
  }

  /**
   * The value get() would return, when it is known without reading RocksDB (a pending write
   * of this batch or a value read ahead); undefined otherwise.
   */
  peek (key: Buffer, name: string = key.toString('latin1')): Buffer | null | undefined {
    const p = this.pending.get(name)
    if (p !== undefined) return p.value
    return this.cache.get(name)
  }

  async get (key: Buffer): Promise<Buffer | null> {
    const v = this.peek(key)
    if (v !== undefined) return v
    return await this.idx.get(key)
  }

  put (key: Buffer, value: Buffer, name: string = key.toString('latin1')): void { this.pending.set(name, { key, value }) }

  del (key: Buffer): void { this.pending.set(key.toString('latin1'), { key, value: null }) }

  /**
   * A write that get() will not see: for keys nobody reads back through a batch (the
   * time-ordered secondary keys), so they skip the read-your-writes map. Applied in call order.
   */
  putBlind (key: Buffer, value: Buffer): void { this.blind.push({ key, value }) }

  delBlind (key: Buffer): void { this.blind.push({ key, value: null }) }

  async flush (): Promise<void> {
    if (this.size === 0) return
    const writes = this.pending
    const w = this.idx.db.write({ capacity: this.size })
    const seq = this.idx.beginFlush(writes)
    try {
      for (const { key, value } of writes.values()) {
        if (value === null) w.tryDelete(key)
        else w.tryPut(key, value)
      }
      for (const { key, value } of this.blind) {
        if (value === null) w.tryDelete(key)
        else w.tryPut(key, value)
      }
      await w.flush()
    } catch (err) {
      this.idx.forgetFlush(seq) // nothing was written (a batch is atomic)
      throw err
    } finally {
      this.idx.endFlush(seq)
      w.destroy() // an undestroyed batch makes close() hang
    }
    this.pending = new Map()
    this.blind = []
    this.cache.clear()
  }
}
