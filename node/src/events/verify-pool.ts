import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { loadVerifier, packItems } from './verify.js'
import type { SignatureVerifier, VerifyLogger } from './verify.js'

// Under tap's TS loader this module is verify-pool.ts; workers inherit execArgv (and so the
// loader), so they can run the .ts worker directly. The compiled build uses the .js sibling.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './verify-worker.ts' : './verify-worker.js', import.meta.url)

type Item = { id: string, pubkey: string, sig: string }

interface Pending { n: number, resolve: (r: Uint8Array) => void, reject: (e: Error) => void }

interface Slot { worker: Worker, pending: Map<number, Pending>, load: number, dead: boolean }

export interface VerifyPoolOptions {
  /** Worker threads (default os.availableParallelism()). */
  threads?: number
  log?: VerifyLogger
  /** Batches smaller than this are verified inline on the calling thread (default 16). */
  inlineBelow?: number
  /** Upper bound on records per worker message, so work spreads evenly (default 2048). */
  maxChunk?: number
  /** Worker entry override (tests inject crashing workers). */
  workerUrl?: URL
}

/**
 * Spreads large signature batches (sync catch-up) over worker threads. Idle workers are
 * unref()'d so the pool never keeps the process alive; a crashed worker rejects its pending
 * batches and is replaced on the next call.
 */
export class VerifyPool {
  readonly threads: number
  readonly #inline: SignatureVerifier
  readonly #inlineBelow: number
  readonly #maxChunk: number
  readonly #log: VerifyLogger | undefined
  readonly #workerUrl: URL
  #slots: Slot[] = []
  #nextId = 0
  #closing: Promise<void> | null = null

  constructor (opts: VerifyPoolOptions = {}) {
    this.threads = Math.max(1, Math.floor(opts.threads ?? availableParallelism()))
    this.#log = opts.log
    this.#inline = loadVerifier({ log: opts.log }) // also surfaces the "no native" warning once
    this.#inlineBelow = opts.inlineBelow ?? 16
    this.#maxChunk = Math.max(1, opts.maxChunk ?? 2048)
    this.#workerUrl = opts.workerUrl ?? WORKER_URL
  }

  /** threadIds of the live workers (diagnostics; workers start on the first large batch). */
  get threadIds (): number[] { return this.#slots.map(s => s.worker.threadId) }

  /** Backend of the calling thread's verifier (workers load the same addon). */
  get backend (): 'native' | 'js' { return this.#inline.backend }

  /**
   * Verifies on the workers, split evenly over them. `{ spread: false }` sends the batch to
   * the least busy worker as one piece (up to maxChunk): callers that split work themselves
   * (to get each part's results as soon as it is done) use it.
   */
  async verifyMany (items: ReadonlyArray<Item>, opts: { spread?: boolean } = {}): Promise<boolean[]> {
    if (this.#closing !== null) throw new Error('VerifyPool is closed')
    const n = items.length
    if (n === 0) return []
    if (n < this.#inlineBelow && opts.spread !== false) return this.#inline.verifyMany(items)

    this.#ensureWorkers()
    const per = Math.min(this.#maxChunk, opts.spread === false ? n : Math.ceil(n / this.threads))
    const parts: Array<Promise<{ start: number, ok: Uint8Array, res: Uint8Array }>> = []
    for (let start = 0; start < n; start += per) {
      const end = Math.min(n, start + per)
      const { records, ok } = packItems(items, start, end)
      parts.push(this.#run(records, end - start).then(res => ({ start, ok, res })))
    }
    const out = new Array<boolean>(n)
    for (const { start, ok, res } of await Promise.all(parts)) {
      for (let i = 0; i < ok.length; i++) out[start + i] = ok[i] === 1 && res[i] === 1
    }
    return out
  }

  /** Terminates the workers and rejects anything still pending. Idempotent. */
  close (): Promise<void> {
    if (this.#closing !== null) return this.#closing
    const slots = this.#slots
    this.#slots = []
    for (const s of slots) this.#rejectAll(s, new Error('VerifyPool closed'))
    this.#closing = Promise.all(slots.map(async s => { await s.worker.terminate() })).then(() => {})
    return this.#closing
  }

  #ensureWorkers (): void {
    while (this.#slots.length < this.threads) this.#slots.push(this.#spawn())
  }

  #spawn (): Slot {
    const worker = new Worker(this.#workerUrl)
    worker.unref()
    const slot: Slot = { worker, pending: new Map(), load: 0, dead: false }
    worker.on('message', (m: { type: string, id?: number, result?: Uint8Array, error?: string }) => {
      if (m.type !== 'result' || m.id === undefined) return
      const p = slot.pending.get(m.id)
      if (p === undefined) return
      this.#settled(slot, m.id, p)
      if (m.error !== undefined || m.result === undefined) p.reject(new Error(`verify worker failed: ${m.error ?? 'no result'}`))
      else p.resolve(m.result)
    })
    worker.on('error', err => { this.#crashed(slot, err) })
    worker.on('exit', code => { this.#crashed(slot, new Error(`exited with code ${code}`)) })
    return slot
  }

  #run (records: Buffer, n: number): Promise<Uint8Array> {
    let slot = this.#slots[0] as Slot
    for (const s of this.#slots) if (s.load < slot.load) slot = s
    const id = ++this.#nextId
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { n, resolve, reject })
      slot.load += n
      if (slot.pending.size === 1) slot.worker.ref() // keep the process alive only while work is pending
      slot.worker.postMessage({ id, records: records.buffer, n }, [records.buffer as ArrayBuffer])
    })
  }

  #settled (slot: Slot, id: number, p: Pending): void {
    slot.pending.delete(id)
    slot.load -= p.n
    if (slot.pending.size === 0) slot.worker.unref()
  }

  #rejectAll (slot: Slot, err: Error): void {
    slot.dead = true
    const pending = [...slot.pending.values()]
    slot.pending.clear()
    slot.load = 0
    slot.worker.unref()
    for (const p of pending) p.reject(err)
  }

  // Drops the slot; #ensureWorkers replaces it on the next batch (lazily, so a worker that
  // cannot start does not respawn in a tight loop).
  #crashed (slot: Slot, cause: Error): void {
    if (slot.dead) return
    this.#slots = this.#slots.filter(s => s !== slot)
    this.#log?.warn({ err: cause }, 'signature verify worker crashed; replacing it')
    this.#rejectAll(slot, new Error(`signature verify worker crashed: ${cause.message}`, { cause }))
    void slot.worker.terminate()
  }
}
