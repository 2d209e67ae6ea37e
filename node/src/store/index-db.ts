import RocksDB from 'rocksdb-native'

/** The query index: an ordered KV store in its own RocksDB directory, beside the Corestore. */
export class IndexDb {
  readonly rocks: RocksDB
  readonly db: RocksDB

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
  batch (): IndexBatch { return new IndexBatch(this) }
}

export class IndexBatch {
  private readonly idx: IndexDb
  private readonly pending = new Map<string, Buffer | null>()
  // values read ahead in one read batch: one RocksDB get costs ~5x a batched one
  private readonly cache = new Map<string, Buffer | null>()

  constructor (idx: IndexDb) { this.idx = idx }

  get size (): number { return this.pending.size }

  /** Reads these keys in one RocksDB read batch so later get()s are served from memory. */
  async prefetch (keys: Buffer[]): Promise<void> {
    const todo = keys.filter(k => { const s = k.toString('latin1'); return !this.pending.has(s) && !this.cache.has(s) })
    if (todo.length === 0) return
    const values = await this.idx.getMany(todo)
    todo.forEach((k, i) => { this.cache.set(k.toString('latin1'), values[i] ?? null) })
  }

  async get (key: Buffer): Promise<Buffer | null> {
    const k = key.toString('latin1')
    if (this.pending.has(k)) return this.pending.get(k) ?? null
    if (this.cache.has(k)) return this.cache.get(k) ?? null
    return await this.idx.get(key)
  }

  put (key: Buffer, value: Buffer): void { this.pending.set(key.toString('latin1'), value) }

  del (key: Buffer): void { this.pending.set(key.toString('latin1'), null) }

  async flush (): Promise<void> {
    if (this.pending.size === 0) return
    const w = this.idx.db.write({ capacity: this.pending.size })
    try {
      for (const [k, v] of this.pending) {
        const key = Buffer.from(k, 'latin1')
        if (v === null) w.tryDelete(key)
        else w.tryPut(key, v)
      }
      await w.flush()
    } finally {
      w.destroy() // an undestroyed batch makes close() hang
    }
    this.pending.clear()
    this.cache.clear()
  }
}
