import type Hypercore from 'hypercore'
import type { Logger } from 'pino'
import type { NostrEvent } from '../events/types.js'
import type { LogIndexer } from './log-indexer.js'
import { ReadAhead } from './read-ahead.js'

/** Blocks of a replicated log indexed per hold of the write lock. */
const REPLICATED_BLOCKS_PER_TURN = 4
/**
 * Turns' worth of blocks a replicated catch-up checks ahead of the indexing (being checked on
 * the pool or checked and waiting), at most: with the turn being indexed, at most
 * (READ_AHEAD_RUNS + 1) x 4 = 12 blocks are held: ~3,000 events of group-commit blocks, or
 * ~12 MiB of bulky blocks at the default commitMaxBytes (1 MiB; a peer's blocks are as large
 * as its writer's setting made them).
 */
const READ_AHEAD_RUNS = 2

export interface CatchUpOptions {
  /** True once the caller gives up (the sync side closing). */
  stop?: () => boolean
  /** Blocks already indexed out of order: left out. */
  skip?: (seq: number) => boolean
}

/** What the replicated indexing needs of the store. */
export interface ReplicatedHost {
  logIndexer: LogIndexer
  log: Logger
  /** Check the next blocks while indexing the current ones (off: the old one-after-the-other path). */
  readAhead: boolean
  /** The store is closing: start nothing new. */
  closed: () => boolean
  /** Runs `fn` under the store's write lock (telling the free-space watcher of a write that ran out of space). */
  locked: <T>(fn: () => Promise<T>) => Promise<T>
  /** Fans out an event newly stored. */
  emit: (e: NostrEvent) => void
}

/**
 * The store's sync hooks for replicated (untrusted) logs: the in-order catch-up, with its
 * read-ahead, and blocks indexed ahead of it by priority. Every write goes through the store's
 * write lock a few blocks at a time, so a long catch-up never holds up phones' OKs.
 */
export class ReplicatedIndexing {
  private readonly readAheads = new Set<ReadAhead>()

  constructor (private readonly host: ReplicatedHost) {}

  /**
   * Indexes what a replicated (untrusted) log holds contiguously past its checkpoint, with the
   * same checks as a client's events, and fans out what was stored.
   */
  async indexLog (core: Hypercore, opts: CatchUpOptions = {}): Promise<number> {
    if (!this.host.readAhead) return await this.indexInOrder(core, opts)
    const halted = (): boolean => this.host.closed() || opts.stop?.() === true
    const onStored = (e: NostrEvent): void => { this.host.emit(e) }
    let stored = 0
    let ahead: ReadAhead | null = null
    try {
      while (!halted()) {
        const fresh = ahead === null || ahead.done
        if (fresh) {
          await this.endReadAhead(ahead)
          ahead = this.startReadAhead(core, await this.host.logIndexer.resumeAt(core), opts)
        }
        const ra = ahead as ReadAhead
        let run
        try {
          run = await ra.take() // outside the write lock: phones' OKs do not wait on signatures
        } catch (err) {
          if (halted()) break
          throw err
        }
        if (run === null) {
          // the read-ahead reached a block that is not here (yet): more may have come since
          if (fresh || await this.host.logIndexer.indexedLength(core) >= core.contiguousLength) break
          continue
        }
        if (halted()) break
        const { from, to, checked } = run
        // a few blocks per turn of the write lock: a long catch-up must not hold up phones' OKs
        const n = await this.host.locked((async () => await this.host.logIndexer.indexChecked(core, from, to, checked, { onStored })))
        if (n === null) {
          // only this path moves a replicated log's checkpoint, serialised per log by the caller
          this.host.log.warn({ log: core.key.toString('hex'), from }, 'read-ahead out of step with the index; reading again from the checkpoint')
          await this.endReadAhead(ahead)
          ahead = null
          continue
        }
        stored += n
        if (ra.done && await this.host.logIndexer.indexedLength(core) >= core.contiguousLength) break
      }
    } finally {
      await this.endReadAhead(ahead)
    }
    return stored
  }

  /** Replicated catch-up without read-ahead: read, check, index, one turn after the other. */
  private async indexInOrder (core: Hypercore, opts: CatchUpOptions): Promise<number> {
    let stored = 0
    // a few blocks per turn of the write lock: a long catch-up must not hold up phones' OKs
    while (!this.host.closed() && opts.stop?.() !== true) {
      stored += await this.host.locked((async () => await this.host.logIndexer.catchUp(core, { trusted: false, onStored: e => { this.host.emit(e) }, maxBlocks: REPLICATED_BLOCKS_PER_TURN, ...(opts.skip === undefined ? {} : { skip: opts.skip }) })))
      if (await this.host.logIndexer.indexedLength(core) >= core.contiguousLength) break
    }
    return stored
  }

  private startReadAhead (core: Hypercore, from: number, opts: CatchUpOptions): ReadAhead {
    const ra = new ReadAhead({
      core,
      from,
      blocksPerRun: REPLICATED_BLOCKS_PER_TURN,
      depth: READ_AHEAD_RUNS,
      stop: () => this.host.closed() || opts.stop?.() === true,
      check: async blocks => await this.host.logIndexer.check(core, blocks, false),
      ...(opts.skip === undefined ? {} : { skip: opts.skip })
    })
    this.readAheads.add(ra)
    return ra
  }

  private async endReadAhead (ra: ReadAhead | null): Promise<void> {
    if (ra === null) return
    await ra.close()
    this.readAheads.delete(ra)
  }

  /**
   * Indexes blocks of a replicated log that arrived ahead of the contiguous part (fetched by
   * priority), checked like a client's events; returns the blocks indexed.
   */
  async indexBlocks (core: Hypercore, seqs: number[]): Promise<number[]> {
    const done: number[] = []
    // a few blocks per turn of the write lock, as for the in-order catch-up
    for (let i = 0; i < seqs.length && !this.host.closed(); i += REPLICATED_BLOCKS_PER_TURN) {
      const part = seqs.slice(i, i + REPLICATED_BLOCKS_PER_TURN)
      done.push(...await this.host.locked((async () => await this.host.logIndexer.indexBlocks(core, part, { onStored: e => { this.host.emit(e) } }))))
    }
    return done
  }

  /** Lets every read-ahead still checking blocks finish its step (it writes nothing). */
  async close (): Promise<void> {
    await Promise.all([...this.readAheads].map(async ra => await ra.close()))
  }
}
