import { promises as fs } from 'node:fs'
import path from 'node:path'
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import type RocksDB from 'rocksdb-native'
import type { Logger } from 'pino'
import { readNodeFile, writeNodeFile, type NodeFile } from './node-file.js'

const isFrozen = (core: Hypercore): boolean => core.core?.header?.frozen === true

/**
 * This node's writer log(s). Appends are made durable by fsyncing the Corestore's RocksDB
 * write-ahead log (hypercore's append() does not fsync). When the current log is frozen by a
 * fork (a peer holds a block we lost in a power cut), the node rotates onto a new log.
 */
export class NodeLog {
  private readonly corestore: Corestore
  private readonly rocks: RocksDB
  private readonly dataDir: string
  private readonly log: Logger
  /** false on a relay: no log of its own is made or opened; append() finds no current log. */
  readonly writer: boolean
  private file: NodeFile = { version: 1, logEpoch: 0, rotations: [] }
  private readonly cores: Hypercore[] = []
  private wal: { path: string, fh: fs.FileHandle } | null = null
  private syncChain: Promise<void> = Promise.resolve()
  private queuedSync: Promise<void> | null = null

  constructor (opts: { corestore: Corestore, rocks: RocksDB, dataDir: string, log: Logger, writer?: boolean }) {
    this.writer = opts.writer !== false
    this.corestore = opts.corestore
    this.rocks = opts.rocks
    this.dataDir = opts.dataDir
    this.log = opts.log
  }

  async open (): Promise<void> {
    if (!this.writer) return
    this.file = await readNodeFile(this.dataDir)
    for (let epoch = 0; epoch <= this.file.logEpoch; epoch++) {
      const core = this.corestore.get({ name: `node-log-${epoch}` })
      await core.ready()
      this.cores.push(core)
    }
    if (isFrozen(this.current)) await this.rotate('log is frozen by a fork (found at start)')
    this.watch(this.current)
  }

  /** Every log this node ever wrote, oldest first; all are kept open so they can be served. */
  get logs (): readonly Hypercore[] { return this.cores }

  get current (): Hypercore {
    const c = this.cores[this.cores.length - 1]
    if (c === undefined) throw Object.assign(new Error(this.writer ? 'node log is not open' : 'this node has no log of its own (relay)'), { code: this.writer ? 'ERR_NOT_OPEN' : 'ERR_READ_ONLY' })
    return c
  }

  /** The log appended to, or null on a node without one (a relay). */
  get currentOrNull (): Hypercore | null { return this.cores[this.cores.length - 1] ?? null }

  get epoch (): number { return this.file.logEpoch }

  get rotations (): NodeFile['rotations'] { return this.file.rotations }

  /** Appends one block and returns once it is on disk (WAL fsynced). */
  async append (block: Buffer): Promise<{ core: Hypercore, seq: number }> {
    const res = await this.appendUnsynced(block)
    await this.sync()
    return res
  }

  /**
   * Appends one block without waiting for the disk: the caller must `await sync()` (started
   * after this resolves) before telling anyone the block is stored. Lets the store append the
   * next group while this one's fsync runs.
   */
  async appendUnsynced (block: Buffer): Promise<{ core: Hypercore, seq: number }> {
    let core = this.current
    if (!core.writable || isFrozen(core)) {
      await this.rotate('log is frozen by a fork')
      core = this.current
    }
    let res: { length: number }
    try {
      res = await core.append(block)
    } catch (err) {
      if (!isFrozen(core) && !core.closed) throw err
      await this.rotate(`append failed on a frozen log: ${(err as Error).message}`)
      core = this.current
      res = await core.append(block)
    }
    return { core, seq: res.length - 1 }
  }

  /**
   * fsyncs the RocksDB WAL: resolves once every block appended before the call is on disk.
   * Syncs run one at a time; callers arriving while one is queued share it (group fsync).
   */
  sync (): Promise<void> {
    if (this.queuedSync !== null) return this.queuedSync
    const run = this.syncChain.then(async () => {
      this.queuedSync = null // writes from here on need the next sync
      await this.syncWal()
    })
    this.queuedSync = run
    this.syncChain = run.catch(() => {})
    return run
  }

  private async syncWal (): Promise<void> {
    const current = await this.rocks.currentWalFile()
    const file = path.join(this.rocks.path, current.path)
    if (this.wal === null || this.wal.path !== file) {
      // the previous WAL may hold writes from before the switch
      if (this.wal !== null) { await this.wal.fh.datasync().catch(() => {}); await this.wal.fh.close().catch(() => {}) }
      this.wal = { path: file, fh: await fs.open(file, 'r') }
      await syncDir(this.rocks.path)
    }
    await this.wal.fh.datasync()
  }

  async rotate (reason: string): Promise<void> {
    if (!this.writer) return
    const from = this.file.logEpoch
    const next: NodeFile = {
      ...this.file,
      logEpoch: from + 1,
      rotations: [...this.file.rotations, { at: new Date().toISOString(), from, reason }]
    }
    const core = this.corestore.get({ name: `node-log-${next.logEpoch}` })
    await core.ready()
    await writeNodeFile(this.dataDir, next)
    this.file = next
    this.cores.push(core)
    this.watch(core)
    this.log.warn({ from, to: next.logEpoch, reason, key: core.key.toString('hex') }, 'node log rotated onto a new log')
  }

  private watch (core: Hypercore): void {
    core.on('conflict', () => {
      this.log.error({ key: core.key.toString('hex') }, 'fork detected on the node log: it is frozen; the next append rotates onto a new log')
    })
  }

  async close (): Promise<void> {
    await this.syncChain
    if (this.wal !== null) {
      await this.wal.fh.datasync().catch(() => {})
      await this.wal.fh.close().catch(() => {})
      this.wal = null
    }
    for (const c of this.cores) await c.close().catch(() => {})
  }
}

async function syncDir (dir: string): Promise<void> {
  const dh = await fs.open(dir, 'r')
  try { await dh.sync() } finally { await dh.close() }
}
