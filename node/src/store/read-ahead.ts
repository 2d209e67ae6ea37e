import type Hypercore from 'hypercore'
import type { Checked } from './log-indexer.js'

/** Blocks [from, to) of a log, decoded and checked; `to` counts the blocks skipped too. */
export interface CheckedRun { from: number, to: number, checked: Checked }

export interface ReadAheadOptions {
  core: Hypercore
  /** First block to read (the log's checkpoint). */
  from: number
  /** Blocks per run (skipped ones included): what one turn of the write lock indexes. */
  blocksPerRun: number
  /** Runs being checked or checked and waiting to be taken, at most. */
  depth: number
  /** Blocks already indexed out of order: left out (asked once per block, in order). */
  skip?: (seq: number) => boolean
  /** True once the caller gives up: no further block is read. */
  stop?: () => boolean
  /** Decodes and checks blocks (LogIndexer.check): writes nothing. */
  check: (blocks: Array<{ seq: number, block: Buffer }>) => Promise<Checked>
}

/**
 * Reads and checks a replicated log's next blocks (decode, limits, signatures on the worker
 * pool) while the caller indexes the previous ones, so the pool and the main thread work at
 * the same time. Blocks are read in order, and a run's check may start while the one before
 * is still on the pool (so the workers never wait for the main thread to decode the next);
 * runs are handed over strictly in order. Nothing is written or counted here (the caller does
 * that when it indexes a run). It ends, like the in-order catch-up, at the first block that is
 * not local (or past the contiguous part), at stop(), at close() or on an error (handed to
 * take(), after the runs before it). Memory: at most `depth` runs being checked or waiting,
 * of `blocksPerRun` blocks each, besides the one the caller holds.
 */
export class ReadAhead {
  private readonly opts: ReadAheadOptions
  private readonly ready: Array<Promise<CheckedRun>> = []
  private seq: number
  private ended = false
  private closed = false
  private error: unknown = null
  private wakeProducer: (() => void) | null = null
  private wakeConsumer: (() => void) | null = null
  private readonly running: Promise<void>

  constructor (opts: ReadAheadOptions) {
    this.opts = opts
    this.seq = opts.from
    this.running = this.pump()
  }

  /** True once nothing more will come: ended, and every run taken. */
  get done (): boolean { return this.ended && this.ready.length === 0 }

  /** The next run, in log order; null once the read-ahead ended and every run was taken. */
  async take (): Promise<CheckedRun | null> {
    while (this.ready.length === 0 && !this.ended) await new Promise<void>(resolve => { this.wakeConsumer = resolve })
    const run = this.ready.shift()
    this.wake()
    if (run !== undefined) return await run
    if (this.error !== null) throw this.error
    return null
  }

  /** Stops reading, drops what was not taken and waits for the checks in flight (never throws). */
  async close (): Promise<void> {
    this.closed = true
    this.wake()
    await this.running
    await Promise.allSettled(this.ready.splice(0))
  }

  private wake (): void {
    const p = this.wakeProducer
    this.wakeProducer = null
    p?.()
  }

  private finish (): void {
    this.ended = true
    const c = this.wakeConsumer
    this.wakeConsumer = null
    c?.()
  }

  private halted (): boolean { return this.closed || this.opts.stop?.() === true }

  private async pump (): Promise<void> {
    const { core, blocksPerRun, depth, skip, check } = this.opts
    try {
      while (!this.halted()) {
        if (this.ready.length >= depth) {
          await new Promise<void>(resolve => { this.wakeProducer = resolve })
          continue
        }
        const from = this.seq
        const blocks: Array<{ seq: number, block: Buffer }> = []
        let last = false
        while (this.seq < from + blocksPerRun) {
          if (this.seq >= core.contiguousLength) { last = true; break }
          // already indexed out of order (indexBlocks): its keys are written, leave it out
          if (skip?.(this.seq) === true) { this.seq++; continue }
          const block = await core.get(this.seq, { wait: false })
          if (block === null) { last = true; break }
          blocks.push({ seq: this.seq, block })
          this.seq++
        }
        if (this.seq === from || this.halted()) break
        const to = this.seq
        const run = check(blocks).then(checked => ({ from, to, checked }))
        run.catch(() => {}) // handed to take(), or dropped by close()
        this.ready.push(run)
        const c = this.wakeConsumer
        this.wakeConsumer = null
        c?.()
        if (last) break
      }
    } catch (err) {
      if (!this.halted()) this.error = err
    } finally {
      this.finish()
    }
  }
}
