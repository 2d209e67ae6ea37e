import type { Logger } from 'pino'
import type { NostrEvent } from '../events/types.js'
import type { SignatureVerifier } from '../events/verify.js'
import type { VerifyPool } from '../events/verify-pool.js'

/** Smallest piece of a verify batch worth a hand-off to a worker of its own. */
const MIN_VERIFY_PIECE = 16

/**
 * The ingest path's signature checks, in batches of what arrived in one tick: inline (one
 * native call) when the batch is small and the store idle, else on the worker pool, one piece
 * per free worker, each piece's events moving on as soon as that piece is checked. While every
 * worker is busy the next batch gathers, so under load the main thread parses and indexes
 * while the other cores verify.
 */
export class VerifyBatcher {
  private queue: Array<{ e: NostrEvent, resolve: (ok: boolean) => void }> = []
  /** Pieces of a batch on the worker pool (at most one per worker). */
  private pieces = 0
  private readonly opts: { verifier: SignatureVerifier, pool: VerifyPool, log: Logger, threshold: number, busy: () => boolean }

  /** `threshold`: below this many events an idle store checks inline; `busy`: the store has other work. */
  constructor (opts: { verifier: SignatureVerifier, pool: VerifyPool, log: Logger, threshold: number, busy: () => boolean }) {
    this.opts = opts
  }

  /** Nothing queued or on the pool. */
  get idle (): boolean { return this.queue.length === 0 && this.pieces === 0 }

  verify (e: NostrEvent, resolve: (ok: boolean) => void): void {
    this.queue.push({ e, resolve })
    if (this.queue.length === 1) setImmediate(() => { this.flush() })
  }

  private flush (): void {
    const free = this.opts.pool.threads - this.pieces
    if (free <= 0 || this.queue.length === 0) return
    const items = this.queue
    this.queue = []
    // a small batch is checked inline (lowest latency) only while the store is otherwise
    // idle; under load the main thread has parsing, appending and indexing to do
    if (this.pieces === 0 && !this.opts.busy() && items.length < this.opts.threshold) {
      const ok = this.opts.verifier.verifyMany(items.map(i => i.e))
      items.forEach((it, i) => { it.resolve(ok[i] === true) })
      return
    }
    const pieces = Math.min(free, Math.ceil(items.length / MIN_VERIFY_PIECE))
    const per = Math.ceil(items.length / pieces)
    for (let start = 0; start < items.length; start += per) {
      const piece = items.slice(start, start + per)
      this.pieces++
      void this.onPool(piece.map(i => i.e)).then(ok => {
        this.pieces--
        piece.forEach((it, i) => { it.resolve(ok[i] === true) })
        this.flush() // what gathered meanwhile
      })
    }
  }

  private async onPool (events: NostrEvent[]): Promise<boolean[]> {
    try {
      return await this.opts.pool.verifyMany(events, { spread: false })
    } catch (err) {
      this.opts.log.warn({ err }, 'verify pool failed; verifying inline')
      try { return this.opts.verifier.verifyMany(events) } catch { return events.map(() => false) }
    }
  }
}
